/**
 * What this proves: each probe action judges like the kubelet against real servers on
 * 127.0.0.1 — httpGet (HTTP and HTTPS with a self-signed certificate, headers sent, 200–399
 * success, 500 failure, same-host redirects followed, timeout), tcpSocket (open, refused, timeout), exec (exit 0, non-zero,
 * timed out) and named ports resolved from the container's ports; grpc-health.test.ts covers gRPC.
 * Timeouts run on a SimulatedClock advanced by the test, so they are deterministic.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container } from 'kubernetes-types/core/v1.js';
import { SimulatedClock, SystemClock } from '../../../bus/clock.js';
import { createJsonLogger } from '../../../bus/logger.js';
import type { ContainerRuntime, ExecResult } from '../../../nodeagent/runtime/types.js';
import type { ProbeTarget } from '../../../nodeagent/agent-context.js';
import { createProber, resolvePort, runHttpGetAction, runTcpSocketAction, type ActionContext } from '../../../nodeagent/probes/index.js';

const logger = createJsonLogger({ level: 'error', write: () => undefined });
const servers: (http.Server | https.Server | net.Server)[] = [];
let httpPort = 0;
let httpsPort = 0;
let silentPort = 0;
let seenHeaders: http.IncomingHttpHeaders = {};

function listen(server: http.Server | https.Server | net.Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

const handler: http.RequestListener = (request, response) => {
  seenHeaders = request.headers;
  const status = request.url === '/healthz' ? 200 : request.url?.startsWith('/moved') || request.url === '/loop' || request.url === '/away' ? 302 : 500;
  const location = request.url === '/moved-ok' ? '/healthz' : request.url === '/moved-bad' ? '/broken' : request.url === '/loop' ? '/loop' : request.url === '/away' ? 'http://127.0.0.2:1/' : undefined;
  response.writeHead(status, { 'content-type': 'text/plain', ...(location !== undefined ? { location } : {}) });
  response.end(status === 200 ? 'ok' : 'bad');
};

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubus-probe-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=probe', '-days', '1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  httpPort = await listen(http.createServer(handler));
  httpsPort = await listen(https.createServer({ key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) }, handler));
  // Accepts connections and never answers: what a hung app looks like to an HTTP probe.
  silentPort = await listen(net.createServer(() => undefined));
});

afterAll(() => {
  for (const server of servers) server.close();
});

const container: Container = { name: 'app', ports: [{ name: 'http', containerPort: 0 }] };

function context(overrides: Partial<ActionContext> = {}): ActionContext {
  return { runtime: fakeRuntime([]), clock: new SystemClock(), containerId: 'c1', container, podIp: '127.0.0.1', timeoutMs: 2_000, ...overrides };
}

function fakeRuntime(results: ExecResult[], calls: string[][] = []): ContainerRuntime {
  return {
    execSync: async (_id: string, command: readonly string[]) => {
      calls.push([...command]);
      return results.shift() ?? { exitCode: 0, stdout: new Uint8Array(), stderr: new Uint8Array(), timedOut: false };
    },
  } as unknown as ContainerRuntime;
}

const target = (c: Container = container): ProbeTarget => ({ pod: { metadata: { name: 'p', namespace: 'ns', uid: 'u' } }, podIp: '127.0.0.1', container: c, containerId: 'c1', startedAtMs: 0 });

describe('httpGet', () => {
  it('succeeds on 2xx and 3xx, fails on 500, sends headers', async () => {
    expect((await runHttpGetAction({ port: httpPort, path: '/healthz', httpHeaders: [{ name: 'X-Probe', value: 'yes' }] }, context())).outcome).toBe('success');
    expect(seenHeaders['x-probe']).toBe('yes');
    expect(seenHeaders['user-agent']).toMatch(/^kube-probe\//);
    expect((await runHttpGetAction({ port: httpPort, path: '/moved' }, context())).outcome).toBe('success');
    // Same-host redirects are followed; one to another host ends as a success; a loop stops after 10.
    expect((await runHttpGetAction({ port: httpPort, path: '/moved-ok' }, context())).outcome).toBe('success');
    expect((await runHttpGetAction({ port: httpPort, path: '/moved-bad' }, context())).outcome).toBe('failure');
    expect((await runHttpGetAction({ port: httpPort, path: '/away' }, context())).outcome).toBe('success');
    expect((await runHttpGetAction({ port: httpPort, path: '/loop' }, context())).message).toContain('stopped after 10 redirects');
    const failed = await runHttpGetAction({ port: httpPort, path: '/broken' }, context());
    expect(failed).toEqual({ outcome: 'failure', message: 'HTTP probe failed with statuscode: 500' });
  });

  it('speaks HTTPS without verifying the certificate', async () => {
    expect((await runHttpGetAction({ port: httpsPort, path: '/healthz', scheme: 'HTTPS' }, context())).outcome).toBe('success');
  });

  it('resolves named ports from the container', async () => {
    const named: Container = { name: 'app', ports: [{ name: 'http', containerPort: httpPort }] };
    expect(resolvePort('http', named)).toBe(httpPort);
    expect(resolvePort('8080', named)).toBe(8080);
    expect(resolvePort('nope', named)).toBeUndefined();
    expect((await runHttpGetAction({ port: 'http', path: '/healthz' }, context({ container: named }))).outcome).toBe('success');
    expect((await runHttpGetAction({ port: 'nope' }, context({ container: named }))).message).toContain('not a port of container app');
  });

  it('times out on the clock', async () => {
    const clock = new SimulatedClock();
    const pending = runHttpGetAction({ port: silentPort, path: '/' }, context({ clock, timeoutMs: 1_000 }));
    clock.advance(1_000);
    const result = await pending;
    expect(result.outcome).toBe('failure');
    expect(result.message).toContain('timed out after 1000 ms');
  });
});

describe('tcpSocket', () => {
  it('succeeds on an open port, fails on a closed one, times out on the clock', async () => {
    expect((await runTcpSocketAction({ port: httpPort }, context())).outcome).toBe('success');
    const closed = await listen(net.createServer());
    servers.pop()?.close();
    await new Promise((resolve) => setImmediate(resolve));
    expect((await runTcpSocketAction({ port: closed }, context())).outcome).toBe('failure');
    const clock = new SimulatedClock();
    const pending = runTcpSocketAction({ port: httpPort }, context({ clock, timeoutMs: 500 }));
    clock.advance(500);
    expect((await pending).message).toContain('timed out');
  });
});

describe('httpGet hooks', () => {
  it('runs once against the pod and reports the status', async () => {
    const prober = createProber({ runtime: fakeRuntime([]), clock: new SystemClock(), logger });
    expect(await prober.runHook({ httpGet: { port: httpPort, path: '/healthz' } }, target(), 2_000)).toMatchObject({ ok: true });
    expect(await prober.runHook({ httpGet: { port: httpPort, path: '/shutdown' } }, target(), 2_000)).toMatchObject({ ok: false, message: 'HTTP probe failed with statuscode: 500' });
  });
});

describe('exec and runOnce', () => {
  it('judges by exit code and timeout', async () => {
    const results: ExecResult[] = [
      { exitCode: 0, stdout: new Uint8Array(), stderr: new Uint8Array(), timedOut: false },
      { exitCode: 2, stdout: Buffer.from('not ready'), stderr: new Uint8Array(), timedOut: false },
      { exitCode: 137, stdout: new Uint8Array(), stderr: new Uint8Array(), timedOut: true },
    ];
    const calls: string[][] = [];
    const prober = createProber({ runtime: fakeRuntime(results, calls), clock: new SystemClock(), logger });
    const probe = { exec: { command: ['cat', '/tmp/healthy'] }, timeoutSeconds: 3 };
    expect(await prober.runOnce(probe, target())).toEqual({ outcome: 'success', message: '' });
    expect(await prober.runOnce(probe, target())).toEqual({ outcome: 'failure', message: 'command exited with 2: not ready' });
    expect((await prober.runOnce(probe, target())).message).toBe('command timed out after 3000 ms');
    expect(calls[0]).toEqual(['cat', '/tmp/healthy']);
  });
});
