/**
 * GET pods/<p>/log (K8S-STREAMING.md §2): the member asks the pod's node agent on
 * `node.<N>.rpc` for the container's log, one bounded chunk per request (nodeagent/rpc/protocol.ts),
 * and copies the chunks to the client as `text/plain`. `follow` repeats long polls until the
 * container instance ends or the client goes away.
 *
 * Decision: the next chunk is asked for only once the last one was written to the client's
 * socket (and drained), so a slow reader slows the agent instead of filling the member's memory;
 * the member holds at most one chunk per stream. `limitBytes` is enforced here, over the whole
 * stream; the agent is asked for no more than what is left of it.
 *
 * Decision: errors before the first byte are Kubernetes' Status (400 for a bad container or no
 * previous instance, 500 naming the node when its agent does not answer, where Kubernetes says
 * `Get "https://<node>:10250/…": …`); once bytes flowed, a failure ends the stream (HTTP has no
 * way left to say more), and is logged.
 */
import { once } from 'node:events';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { BusClosedError, BusTimeoutError, NoRespondersError } from '../../../bus/errors.js';
import type { LogsReply, LogsRequest } from '../../../nodeagent/rpc/protocol.js';
import { nodeRpcLimits } from '../../../nodeagent/rpc/protocol.js';
import { ApiError, apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';
import type { RequestContext } from './context.js';
import type { NodeRpc } from './node-rpc.js';

/** PodLogOptions as the query gives them (false and unset ones left out, as kubectl sends them). */
export interface PodLogOptions {
  readonly container: string | null;
  readonly follow: boolean;
  readonly previous: boolean;
  /** RFC 3339, from sinceTime or now − sinceSeconds. */
  readonly sinceTime: string | null;
  readonly tailLines: number | null;
  readonly timestamps: boolean;
  readonly limitBytes: number | null;
}

const flag = (query: URLSearchParams, name: string): boolean => ['true', '1'].includes(query.get(name) ?? '');

/** Kubernetes' PodLogOptions validation (422 PodLogOptions "" is invalid), sinceSeconds resolved against `now`. */
export function parseLogOptions(query: URLSearchParams, now: Date): PodLogOptions {
  const causes: { field: string; message: string }[] = [];
  const integer = (name: string, min: number): number | null => {
    const raw = query.get(name);
    if (raw === null || raw === '') return null;
    const value = /^-?\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min) {
      causes.push({ field: name, message: `Invalid value: ${JSON.stringify(raw)}: must be ${min === 0 ? 'greater than or equal to 0' : 'greater than 0'}` });
      return null;
    }
    return value;
  };
  const tailLines = integer('tailLines', 0);
  const limitBytes = integer('limitBytes', 1);
  const sinceSeconds = integer('sinceSeconds', 1);
  const sinceRaw = query.get('sinceTime');
  let sinceTime: string | null = null;
  if (sinceRaw !== null && sinceRaw !== '') {
    if (Number.isNaN(Date.parse(sinceRaw)) || !/^\d{4}-\d\d-\d\dT/.test(sinceRaw)) causes.push({ field: 'sinceTime', message: `Invalid value: ${JSON.stringify(sinceRaw)}: must be RFC 3339` });
    else sinceTime = sinceRaw;
  }
  if (sinceSeconds !== null && sinceTime !== null) causes.push({ field: 'sinceSeconds', message: 'Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified' });
  if (causes.length > 0) {
    throw new ApiError(422, 'Invalid', `PodLogOptions "" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`);
  }
  if (sinceSeconds !== null) sinceTime = new Date(now.getTime() - sinceSeconds * 1000).toISOString();
  const container = query.get('container');
  return {
    container: container === null || container === '' ? null : container,
    follow: flag(query, 'follow'), previous: flag(query, 'previous'), timestamps: flag(query, 'timestamps'),
    sinceTime, tailLines, limitBytes,
  };
}

/** The container to read: the named one (any kind), else the only one; Kubernetes' 400s otherwise. */
export function resolveContainer(pod: Pod, requested: string | null): string {
  const name = pod.metadata?.name ?? '';
  const containers = (pod.spec?.containers ?? []).map((c: Container) => c.name);
  const init = (pod.spec?.initContainers ?? []).map((c: Container) => c.name);
  const ephemeral = (pod.spec?.ephemeralContainers ?? []).map((c) => c.name);
  if (requested === null) {
    if (containers.length === 1) return containers[0] as string;
    let message = `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`;
    if (init.length > 0) message += ` or one of the init containers: [${init.join(' ')}]`;
    if (ephemeral.length > 0) message += ` or one of the ephemeral containers: [${ephemeral.join(' ')}]`;
    throw apiErrors.badRequest(message);
  }
  if (![...containers, ...init, ...ephemeral].includes(requested)) throw apiErrors.badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

/** Kubernetes' 400 for a container that never ran yet (waiting, with no earlier instance to show). */
function checkStarted(pod: Pod, container: string, previous: boolean): void {
  if (previous) return;
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])];
  const status = statuses.find((s) => s.name === container);
  const waiting = status?.state?.waiting;
  if (waiting !== undefined && status?.lastState?.terminated === undefined) {
    throw apiErrors.badRequest(`container "${container}" in pod "${pod.metadata?.name ?? ''}" is waiting to start: ${waiting.reason ?? 'ContainerCreating'}`);
  }
}

export async function servePodLogs(ctx: RequestContext, object: KubeObject): Promise<void> {
  const pod = object as unknown as Pod;
  const options = parseLogOptions(ctx.query, ctx.server.wallClock());
  const container = resolveContainer(pod, options.container);
  const node = pod.spec?.nodeName ?? '';
  // Kubernetes answers an unscheduled pod's log with nothing (no location to ask).
  if (node === '') {
    ctx.res.writeHead(200, { 'Content-Type': 'text/plain' });
    ctx.res.end();
    return;
  }
  checkStarted(pod, container, options.previous);
  const rpc = ctx.server.nodeRpc;
  if (rpc === undefined) throw apiErrors.unavailable(`logs of pod "${pod.metadata?.name ?? ''}" are not available: this API server has no connection to node agents`);
  await streamLogs(ctx, { rpc, node, pod, container, options });
}

interface StreamArgs {
  readonly rpc: NodeRpc;
  readonly node: string;
  readonly pod: Pod;
  readonly container: string;
  readonly options: PodLogOptions;
}

async function streamLogs(ctx: RequestContext, args: StreamArgs): Promise<void> {
  const { rpc, node, pod, options } = args;
  const { res } = ctx;
  let gone = false;
  res.once('close', () => { gone = true; });
  let remaining = options.limitBytes ?? Number.POSITIVE_INFINITY;
  let cursor: LogsRequest['cursor'] = null;
  let started = false;
  for (;;) {
    const request: LogsRequest = {
      op: 'logs', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '', container: args.container,
      previous: options.previous, sinceTime: options.sinceTime, tailLines: options.tailLines, timestamps: options.timestamps, cursor,
      maxBytes: Math.min(nodeRpcLimits.chunkBytesMax, remaining),
      // The first request answers at once (so errors come before any byte); follow long-polls after.
      waitMs: started && options.follow ? nodeRpcLimits.waitMsMax : 0,
    };
    let reply: LogsReply;
    try {
      reply = await rpc.logs(node, request, nodeRpcLimits.requestTimeoutMs);
    } catch (error) {
      if (!started) throw agentUnreachable(rpc, node, error);
      ctx.server.logger.warn('log stream ended: the node agent stopped answering', { node, pod: request.name, error: String(error) });
      break;
    }
    if (reply.error !== null) {
      if (!started) throw apiErrors.badRequest(reply.error.message);
      break;
    }
    if (!started) {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
      started = true;
    }
    const chunk = Buffer.from(reply.chunk.buffer, reply.chunk.byteOffset, Math.min(reply.chunk.byteLength, remaining));
    remaining -= chunk.length;
    if (chunk.length > 0 && !res.write(chunk) && !gone) await Promise.race([once(res, 'drain'), once(res, 'close')]);
    cursor = reply.cursor;
    if (gone || remaining <= 0 || reply.eof || cursor === null || (reply.caughtUp && !options.follow)) break;
  }
  if (!started) res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end();
}

/** The Status for an agent that does not answer, naming the node and the subject it was asked on. */
function agentUnreachable(rpc: NodeRpc, node: string, error: unknown): ApiError {
  const why = error instanceof NoRespondersError ? 'no agent is connected'
    : error instanceof BusTimeoutError ? `no reply within ${error.timeoutMs} ms`
      : error instanceof BusClosedError ? 'this API server lost its bus connection'
        : error instanceof Error ? error.message : String(error);
  return apiErrors.internal(`the agent of node "${node}" does not answer on ${rpc.subjectFor(node)}: ${why}`);
}
