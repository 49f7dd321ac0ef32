/**
 * Issue 12 §5, quorum loss: applications keep being served while the control plane has none.
 * `kubus up --servers 3 --agents 2 --runtime process`, a Deployment of 3 HTTP servers and a
 * NodePort Service; once the Service answers on its ClusterIP and on both nodes' NodePorts, a
 * client sends one request every 100 ms (a fresh connection each, rotating over the ClusterIP and
 * the two NodePorts) while 2 of the 3 members are SIGSTOPped for 30 s, then SIGCONTed. Every
 * request made during the outage is answered (the proxies serve from their last known Services
 * and endpoints); after it, the API answers again and the Service still reaches every pod. Before
 * the outage, the `kubernetes` Service (127.96.0.1:443) reaches the members' API from the host.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Service } from 'kubernetes-types/core/v1.js';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../actors/cli/commands/cluster-file.js';
import { adminUser } from '../../actors/apiserver/credentials.js';
import { parseTokenFile } from '../../actors/apiserver/tokens.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { clusterFile, kubectl, kubus, waitForRunningPods } from '../nodeagent/node/up-cluster.js';
import { webDeploymentJson } from './services-fixtures.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server') && requireComponent('kubectl', 'see https://kubernetes.io/docs/tasks/tools/');
const podPort = 8080;
const servicePort = 8080;
const nodeIps = ['127.32.0.1', '127.32.0.2'] as const;
/** The outage and pace. */
const outageMs = 30_000;
const requestIntervalMs = 100;

const web = webDeploymentJson(podPort);

const webService = JSON.stringify({
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
  spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: servicePort, targetPort: podPort, protocol: 'TCP' }] },
});

interface Target { readonly host: string; readonly port: number }
type Answer = { readonly ok: true; readonly body: string } | { readonly ok: false; readonly why: string };

/** One HTTP GET on a fresh connection, bounded: the pod's name, or why it failed. */
function get(target: Target): Promise<Answer> {
  return new Promise((done) => {
    const socket = connect({ host: target.host, port: target.port });
    let data = '';
    const timer = setTimeout(() => (socket.destroy(), done({ ok: false, why: 'timeout' })), 2_000);
    socket.once('connect', () => socket.end(`GET / HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => (data += chunk.toString()));
    socket.once('error', (error: NodeJS.ErrnoException) => (clearTimeout(timer), done({ ok: false, why: error.code ?? error.message })));
    socket.once('close', (hadError) => {
      clearTimeout(timer);
      if (hadError) return;
      const body = /\r\n\r\n([\s\S]*)$/.exec(data)?.[1];
      done(data.startsWith('HTTP/1.1 200') && body !== undefined ? { ok: true, body } : { ok: false, why: data === '' ? 'closed' : 'not 200' });
    });
  });
}

/** Fresh connections to `target` until each of `names` has answered. */
async function reachesAll(what: string, target: Target, names: readonly string[], timeoutMs: number): Promise<void> {
  const seen = new Set<string>();
  await waitUntil(`${what} (${target.host}:${target.port}) to reach ${names.join(', ')}`, async () => {
    const answer = await get(target);
    if (answer.ok) seen.add(answer.body);
    return names.every((name) => seen.has(name));
  }, { timeoutMs, intervalMs: 50 });
}

/**
 * Sends a request every `requestIntervalMs` (rotating over `targets`) until stopped; each answer
 * is recorded with the time its request started.
 */
function steadyClient(targets: readonly Target[]): { readonly answers: { at: number; target: Target; answer: Answer }[]; stop(): Promise<void> } {
  const answers: { at: number; target: Target; answer: Answer }[] = [];
  let stopped = false;
  const running = (async () => {
    for (let i = 0; !stopped; i++) {
      const target = targets[i % targets.length] as Target;
      const at = Date.now();
      answers.push({ at, target, answer: await get(target) });
      // The client's pace (the "every 100 ms"), not a wait for state.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, at + requestIntervalMs - Date.now())));
    }
  })();
  return { answers, stop: async () => { stopped = true; await running; } };
}

/**
 * GET /version through the `kubernetes` Service's ClusterIP (127.96.0.1:443, published by every
 * member, served by the node proxies) as the admin, trusting only the cluster CA and checking the
 * certificate names 127.96.0.1 (`kubus up` gives the members' certificate the kubernetes Service's
 * names, kubernetesServiceCertNames), as a pod using KUBERNETES_SERVICE_HOST would.
 */
function apiThroughService(dir: string): Promise<string> {
  const ca = readFileSync(join(dir, '.kubus', 'pki', 'ca.crt'), 'utf8');
  const tokensFile = join(dir, '.kubus', 'tokens.csv');
  const token = [...parseTokenFile(readFileSync(tokensFile, 'utf8'), tokensFile)].find(([, user]) => user.name === adminUser.name)?.[0] ?? '';
  return new Promise((done) => {
    const req = httpsRequest({
      host: '127.96.0.1', port: 443, path: '/version', ca, timeout: 2_000, agent: false, headers: { Authorization: `Bearer ${token}` },
    }, (res) => {
      res.resume();
      res.on('end', () => done(String(res.statusCode ?? 0)));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    req.end();
  });
}

function agentLogs(dir: string): string {
  return ['kubus-agent-1', 'kubus-agent-2'].map((name) => {
    try {
      const lines = readFileSync(join(dir, '.kubus', 'logs', `${name}.log`), 'utf8').split('\n').filter((line) => /proxy|catalog|service/i.test(line));
      return `${name}:\n${lines.slice(-10).join('\n')}`;
    } catch {
      return `${name}: (no log)`;
    }
  }).join('\n');
}

describe.runIf(runs)('Services keep answering while the control plane has no quorum', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-services-quorum-'));
  const paused: number[] = [];

  afterAll(async () => {
    for (const pid of paused) if (isAlive(pid)) process.kill(pid, 'SIGCONT');
    await kubus(dir, ['down']);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('answers every request made every 100 ms during 30 s with 2 of 3 members stopped', async () => {
    const up = await kubus(dir, ['up', '--servers', '3', '--agents', '2', '--runtime', 'process']);
    expect([up.code, up.stderr]).toEqual([0, '']);
    expect((await kubectl(dir, ['apply', '-f', '-'], web)).code).toBe(0);
    expect((await kubectl(dir, ['apply', '-f', '-'], webService)).code).toBe(0);
    const pods = await waitForRunningPods(dir, 'web', 3, 90_000);
    const names = pods.map((p) => p.metadata?.name ?? '');
    const service = JSON.parse((await kubectl(dir, ['get', 'service', 'web', '-o', 'json'])).stdout) as Service;
    const clusterIp = service.spec?.clusterIP ?? '';
    const nodePort = service.spec?.ports?.[0]?.nodePort ?? 0;
    const targets: Target[] = [{ host: clusterIp, port: servicePort }, ...nodeIps.map((host) => ({ host, port: nodePort }))];
    try {
      for (const target of targets) await reachesAll('the Service', target, names, 30_000);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nagent logs:\n${agentLogs(dir)}`);
    }

    // The kubernetes Service: the members' API through a node proxy, its endpoints merged from one slice per member port.
    let lastAnswer = '';
    await waitUntil('the API through the kubernetes Service', async () => (lastAnswer = await apiThroughService(dir)) === '200', { timeoutMs: 30_000, intervalMs: 200 })
      .catch(async (error: Error) => {
        const slices = (await kubectl(dir, ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=kubernetes', '-o', 'wide'])).stdout;
        throw new Error(`${error.message}; last answer: ${lastAnswer}; slices:\n${slices}\nagent logs:\n${agentLogs(dir)}`);
      });

    const client = steadyClient(targets);
    const members = clusterFile(dir).processes.filter((p) => p.role === 'server').slice(0, 2);
    const outageStart = Date.now();
    for (const member of members) {
      process.kill(member.pid, 'SIGSTOP');
      paused.push(member.pid);
    }
    // The outage's prescribed length (30 s), during which the client keeps its pace.
    await new Promise((resolve) => setTimeout(resolve, outageMs));
    const outageEnd = Date.now();
    for (const member of members) process.kill(member.pid, 'SIGCONT');
    paused.length = 0;
    await client.stop();

    const during = client.answers.filter((a) => a.at >= outageStart && a.at < outageEnd);
    const failed = during.filter((a) => !a.answer.ok);
    // About 300 at the pace; a request waits for the one before it, so a slow answer costs a few.
    expect(during.length).toBeGreaterThan(outageMs / requestIntervalMs / 2);
    expect(failed.map((a) => `${a.target.host}:${a.target.port} at +${a.at - outageStart} ms: ${a.answer.ok ? '' : a.answer.why}`), agentLogs(dir)).toEqual([]);
    // Every pod kept serving through it.
    expect(new Set(during.map((a) => (a.answer.ok ? a.answer.body : ''))).size).toBe(names.length);

    // Quorum back: the API answers, and the Service still reaches every pod.
    await waitUntil('the API answering after SIGCONT', async () => (await kubectl(dir, ['get', 'service', 'web'])).code === 0, { timeoutMs: 60_000, intervalMs: 500 });
    for (const target of targets) await reachesAll('the Service after the outage', target, names, 30_000);
  }, 300_000);
});
