/**
 * The agent's answer to one `logs` request (protocol.ts): which container instance (current:
 * the highest attempt with log files; previous: the one before), where to start (the cursor, else
 * the tail, else the first file), one chunk of it, and whether the instance has ended and all of
 * it was read. A caught-up request for a running instance waits (bounded) for new lines: that is
 * how `kubectl logs -f` follows without the agent pushing anything.
 */
import { stat } from 'node:fs/promises';
import type { Clock } from '../../bus/clock.js';
import { logsHandlerLimits } from './limits.js';
import { containerLogDirectory, podDirectory } from '../log-paths.js';
import { runtimeLabels, type ContainerRuntime } from '../runtime/types.js';
import { LogsRequestError } from './errors.js';
import { instanceFiles, logAttempts, readLogChunk, tailCursor, timestampNanos, type LogFile } from './log-reader.js';
import { nodeRpcLimits, type LogCursor, type LogsReply, type LogsRequest } from './protocol.js';


export interface LogsHandlerDeps {
  readonly dir: string;
  readonly nodeName: string;
  readonly runtime: Pick<ContainerRuntime, 'listContainers'>;
  readonly clock: Clock;
}

/** Checks the request's shape: it comes from a member, but a bad one must fail clearly, not throw inside the reader. */
export function checkLogsRequest(value: unknown): LogsRequest {
  const r = value as Partial<LogsRequest> | null;
  const ok = r !== null && typeof r === 'object' && r.op === 'logs'
    && [r.namespace, r.name, r.uid, r.container].every((s) => typeof s === 'string' && s !== '' && !s.includes('/') && s !== '..' && s !== '.')
    && typeof r.previous === 'boolean' && typeof r.timestamps === 'boolean'
    && typeof r.maxBytes === 'number' && r.maxBytes > 0 && typeof r.waitMs === 'number' && r.waitMs >= 0
    && (r.tailLines === null || (typeof r.tailLines === 'number' && r.tailLines >= 0))
    && (r.sinceTime === null || (typeof r.sinceTime === 'string' && timestampNanos(r.sinceTime) !== null));
  if (!ok) throw new LogsRequestError('badRequest', 'malformed logs request', `${String(r?.namespace)}/${String(r?.name)}`, String(r?.container));
  return r as LogsRequest;
}

export async function handleLogs(request: LogsRequest, deps: LogsHandlerDeps): Promise<LogsReply> {
  const podName = `${request.namespace}/${request.name}`;
  const fail = (code: LogsRequestError['code'], message: string): never => { throw new LogsRequestError(code, message, podName, request.container); };
  if (await stat(podDirectory(deps.dir, request.namespace, request.name, request.uid)).catch(() => null) === null) {
    fail('podNotFound', `pod "${request.name}" (uid ${request.uid}) has no logs on node "${deps.nodeName}"`);
  }
  const containerDir = containerLogDirectory(deps.dir, request.namespace, request.name, request.uid, request.container);
  const attempts = await logAttempts(containerDir);
  const attempt = request.cursor?.attempt ?? pickAttempt(attempts, request.previous);
  if (attempt === null) {
    if (request.previous) fail('previousNotFound', `previous terminated container "${request.container}" in pod "${request.name}" not found`);
    fail('containerNotFound', `container "${request.container}" in pod "${request.name}" has no logs on node "${deps.nodeName}" yet`);
  }
  const instance = attempt as number;
  const deadline = deps.clock.now() + Math.min(request.waitMs, nodeRpcLimits.waitMsMax);
  const maxBytes = Math.min(request.maxBytes, nodeRpcLimits.chunkBytesMax);
  const sinceNanos = request.sinceTime === null ? null : timestampNanos(request.sinceTime);
  let cursor: LogCursor | null = request.cursor;
  for (;;) {
    // Whether it ended is asked before reading: if it had ended then, this read sees all it wrote.
    const ended = !(await isRunning(deps, request, instance, attempts));
    const files = await instanceFiles(containerDir, instance);
    cursor ??= await startCursor(files, instance, request.tailLines);
    const read = await readLogChunk(files, cursor, { sinceNanos, timestamps: request.timestamps, maxBytes });
    const eof = read.caughtUp && ended;
    if (read.chunk.length > 0 || eof || !read.caughtUp || deps.clock.now() >= deadline) {
      return { chunk: read.chunk, cursor: read.cursor, eof, caughtUp: read.caughtUp, error: null };
    }
    cursor = read.cursor;
    await sleep(deps.clock, Math.min(logsHandlerLimits.followPollMs, Math.max(0, deadline - deps.clock.now())));
  }
}

function pickAttempt(attempts: readonly number[], previous: boolean): number | null {
  const index = attempts.length - (previous ? 2 : 1);
  return index >= 0 ? attempts[index] ?? null : null;
}

async function startCursor(files: readonly LogFile[], attempt: number, tailLines: number | null): Promise<LogCursor> {
  if (tailLines !== null) return tailCursor(files, attempt, tailLines);
  return { attempt, inode: files[0]?.inode ?? 0, offset: 0, midLine: false };
}

/** The instance still runs: no newer attempt has logs and the runtime lists it as created or running. */
async function isRunning(deps: LogsHandlerDeps, request: LogsRequest, attempt: number, attemptsAtStart: readonly number[]): Promise<boolean> {
  if (attemptsAtStart.some((a) => a > attempt)) return false;
  const containers = await deps.runtime.listContainers();
  return containers.some((c) => c.labels[runtimeLabels.podUid] === request.uid && c.labels[runtimeLabels.containerName] === request.container
    && (c.attempt === attempt || c.labels[runtimeLabels.attempt] === String(attempt)) && (c.state === 'running' || c.state === 'created'));
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
