/**
 * One attempt of a probe or hook action: exec in the container (the runtime's execSync with the
 * timeout), an HTTP GET to the pod (HTTP or HTTPS without certificate verification, as the
 * kubelet does; success 200–399), or a TCP connect. Each is bounded by `timeoutMs` on the
 * injected clock and never throws: a failure is an outcome with a message saying why.
 *
 * Decision: redirects to the same host are followed (at most `httpRedirectsMax`), one to another
 * host ends the probe as a success, as the kubelet does. gRPC probes are in grpc-health.ts.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Container, ExecAction, HTTPGetAction, TCPSocketAction } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../bus/clock.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { probeLimits, probeUserAgent } from './limits.js';
import { withTimeout } from './timeout.js';
import type { ProbeOutcome } from './probe-result.js';

export interface ActionResult {
  readonly outcome: ProbeOutcome;
  readonly message: string;
}

export interface ActionContext {
  readonly runtime: ContainerRuntime;
  readonly clock: Clock;
  readonly containerId: string;
  readonly container: Container;
  /** The host HTTP and TCP actions go to when they name none: the pod's IP. */
  readonly podIp: string | null;
  readonly timeoutMs: number;
}

const success = (message = ''): ActionResult => ({ outcome: 'success', message });
const failure = (message: string): ActionResult => ({ outcome: 'failure', message });

/** A probe's port: a number, a numeric string, or the name of one of the container's ports. */
export function resolvePort(port: number | string, container: Container): number | undefined {
  if (typeof port === 'number') return port > 0 && port < 65536 ? port : undefined;
  if (/^\d+$/.test(port)) return resolvePort(Number(port), container);
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

export async function runExecAction(action: ExecAction, context: ActionContext): Promise<ActionResult> {
  const command = action.command ?? [];
  if (command.length === 0) return failure('exec action without a command');
  try {
    const result = await context.runtime.execSync(context.containerId, command, context.timeoutMs);
    const output = Buffer.concat([Buffer.from(result.stdout), Buffer.from(result.stderr)]).subarray(0, probeLimits.execOutputBytesMax).toString('utf8').trim();
    if (result.timedOut) return failure(`command timed out after ${context.timeoutMs} ms`);
    if (result.exitCode !== 0) return failure(`command exited with ${result.exitCode}${output === '' ? '' : `: ${output}`}`);
    return success(output);
  } catch (error) {
    return failure(`exec failed: ${(error as Error).message}`);
  }
}

export function runHttpGetAction(action: HTTPGetAction, context: ActionContext): Promise<ActionResult> {
  const port = resolvePort(action.port, context.container);
  if (port === undefined) return Promise.resolve(failure(`port ${String(action.port)} is not a port of container ${context.container.name}`));
  const host = action.host !== undefined && action.host !== '' ? action.host : context.podIp;
  if (host === null) return Promise.resolve(failure('the pod has no IP yet'));
  const scheme = (action.scheme ?? 'HTTP').toUpperCase();
  const headers: Record<string, string> = { 'user-agent': probeUserAgent, accept: '*/*', connection: 'close' };
  for (const header of action.httpHeaders ?? []) headers[header.name.toLowerCase()] = header.value;
  const path = action.path === undefined || action.path === '' ? '/' : action.path.startsWith('/') ? action.path : `/${action.path}`;
  const target = `${scheme.toLowerCase()}://${host.includes(':') ? `[${host}]` : host}:${port}${path}`;
  return withTimeout(context.clock, context.timeoutMs, (settle) => {
    let current: http.ClientRequest | null = null;
    const fetch = (url: URL, redirectsLeft: number): void => {
      const client = url.protocol === 'https:' ? https : http;
      // A fresh connection each time (agent: false), as the kubelet disables keep-alive for probes.
      current = client.request(url, { method: 'GET', headers, agent: false, rejectUnauthorized: false }, (response) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          if (bytes < probeLimits.httpBodyBytesMax) chunks.push(chunk.subarray(0, probeLimits.httpBodyBytesMax - bytes));
          bytes += chunk.length;
        });
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          const location = response.headers.location;
          const next = status >= 300 && status < 400 && location !== undefined ? new URL(location, url) : null;
          // The kubelet follows redirects to the same host; one elsewhere ends the probe as a success (with a warning there).
          if (next !== null && next.hostname === url.hostname) {
            if (redirectsLeft > 0) fetch(next, redirectsLeft - 1);
            else settle(failure(`Get "${next.href}": stopped after ${probeLimits.httpRedirectsMax} redirects`));
            return;
          }
          const body = Buffer.concat(chunks).toString('utf8');
          settle(status >= 200 && status < 400 ? success(body) : failure(`HTTP probe failed with statuscode: ${status}`));
        });
        response.on('error', (error) => settle(failure(`HTTP probe failed: ${error.message}`)));
      });
      current.on('error', (error) => settle(failure(`Get "${url.href}": ${error.message}`)));
      current.end();
    };
    fetch(new URL(target), probeLimits.httpRedirectsMax);
    return () => current?.destroy();
  }, () => failure(`Get "${target}": timed out after ${context.timeoutMs} ms`));
}

export function runTcpSocketAction(action: TCPSocketAction, context: ActionContext): Promise<ActionResult> {
  const port = resolvePort(action.port, context.container);
  if (port === undefined) return Promise.resolve(failure(`port ${String(action.port)} is not a port of container ${context.container.name}`));
  const host = action.host !== undefined && action.host !== '' ? action.host : context.podIp;
  if (host === null) return Promise.resolve(failure('the pod has no IP yet'));
  return withTimeout(context.clock, context.timeoutMs, (settle) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => settle(success()));
    socket.once('error', (error) => settle(failure(`dial tcp ${host}:${port}: ${error.message}`)));
    return () => socket.destroy();
  }, () => failure(`dial tcp ${host}:${port}: timed out after ${context.timeoutMs} ms`));
}

/** A sleep hook: waits on the clock (bounded by the hook's timeout), then succeeds. */
export function runSleepAction(seconds: number, context: Pick<ActionContext, 'clock' | 'timeoutMs'>): Promise<ActionResult> {
  const sleepMs = Math.min(Math.max(0, seconds) * 1000, probeLimits.sleepHookMsMax, context.timeoutMs);
  return new Promise((resolve) => {
    context.clock.setTimeout(() => resolve(success()), sleepMs);
  });
}
