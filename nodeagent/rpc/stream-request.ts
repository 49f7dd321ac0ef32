/**
 * The pure decisions of the agent's stream server: is an open's header well formed, and which
 * running container (or sandbox) of this node it names, or why it is refused (the protocol's
 * `StreamRefusalReason`s, mapped to a Kubernetes Status by the API server).
 */
import { KubusError, type ErrorFields } from '../../bus/errors.js';
import { runtimeLabels, type ContainerStatus, type PodSandboxStatus } from '../runtime/types.js';
import type { ExecStreamHeader, PortForwardStreamHeader, StreamOpenHeader, StreamRefusalReason } from './stream-protocol.js';
import { streamServerLimits } from './stream-limits.js';

/** An open the server refuses; `code` is the refusal's reason. */
export class StreamRequestError extends KubusError {
  override readonly name = 'StreamRequestError';
  constructor(readonly code: StreamRefusalReason, message: string) {
    super(message);
  }
  override fields(): ErrorFields {
    return { reason: this.code };
  }
}

/** Kubernetes object names and uids as they may appear in a header: no separators, bounded. */
function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 253 && !/[/\s]/.test(value) && value !== '.' && value !== '..';
}

/** Checks the header's shape (it comes from a member, but a bad one must be refused clearly, not throw later). */
export function checkStreamHeader(value: unknown): StreamOpenHeader {
  const bad = (what: string): never => { throw new StreamRequestError('badRequest', `malformed stream header: ${what}`); };
  if (typeof value !== 'object' || value === null) return bad('not an object');
  const h = value as Record<string, unknown>;
  if (h['v'] !== 1) bad('unknown version');
  if (!isName(h['namespace']) || !isName(h['name']) || !isName(h['uid'])) bad('namespace, name and uid must be names');
  if (h['op'] === 'portforward') {
    const port = h['port'];
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) bad('port must be 1-65535');
    return { v: 1, op: 'portforward', namespace: h['namespace'] as string, name: h['name'] as string, uid: h['uid'] as string, port: port as number } satisfies PortForwardStreamHeader;
  }
  if (h['op'] !== 'exec' && h['op'] !== 'attach') return bad(`unknown op ${JSON.stringify(h['op'])}`);
  if (!isName(h['container'])) bad('container must be a name');
  const command = h['command'];
  if (!Array.isArray(command) || !command.every((arg) => typeof arg === 'string')) bad('command must be a list of strings');
  if (h['op'] === 'exec' && (command as string[]).length === 0) bad('exec needs a command');
  const flags = ['stdin', 'stdout', 'stderr', 'tty'] as const;
  for (const flag of flags) if (typeof h[flag] !== 'boolean') bad(`${flag} must be a boolean`);
  if (h['op'] === 'exec' && !h['stdin'] && !h['stdout'] && !h['stderr']) bad('at least one of stdin, stdout and stderr must be requested');
  return {
    v: 1, op: h['op'], namespace: h['namespace'] as string, name: h['name'] as string, uid: h['uid'] as string, container: h['container'] as string,
    command: [...(command as string[])], stdin: h['stdin'] as boolean, stdout: h['stdout'] as boolean, stderr: h['stderr'] as boolean, tty: h['tty'] as boolean,
  } satisfies ExecStreamHeader;
}

function containerNameOf(c: ContainerStatus): string {
  return c.labels[runtimeLabels.containerName] ?? c.name;
}

function attemptOf(c: ContainerStatus): number {
  const label = Number(c.labels[runtimeLabels.attempt]);
  return Number.isInteger(label) ? label : c.attempt;
}

/**
 * The container an exec or attach targets: the running instance of `header.container` in the
 * pod `header.uid` (several instances: the highest attempt, the one the kubelet reports).
 */
export function findContainer(header: ExecStreamHeader, containers: readonly ContainerStatus[], sandboxes: readonly PodSandboxStatus[], nodeName: string): ContainerStatus {
  const pod = `${header.namespace}/${header.name}`;
  const sandboxIds = new Set(sandboxes.filter((s) => sandboxPodUid(s) === header.uid).map((s) => s.id));
  const ofPod = containers.filter((c) => c.labels[runtimeLabels.podUid] === header.uid || sandboxIds.has(c.sandboxId));
  if (ofPod.length === 0 && sandboxIds.size === 0) throw new StreamRequestError('podNotFound', `pod "${pod}" (uid ${header.uid}) is not running on node "${nodeName}"`);
  const named = ofPod.filter((c) => containerNameOf(c) === header.container);
  if (named.length === 0) throw new StreamRequestError('containerNotFound', `container ${header.container} is not valid for pod ${header.name}`);
  const running = named.filter((c) => c.state === 'running').sort((a, b) => attemptOf(b) - attemptOf(a));
  const target = running[0];
  if (target === undefined) throw new StreamRequestError('notRunning', `container ${header.container} in pod ${header.name} is not running`);
  return target;
}

/** The sandbox a port-forward targets: the pod's ready one (a pod has one at a time; the newest if a restart left two). */
export function findSandbox(header: PortForwardStreamHeader, sandboxes: readonly PodSandboxStatus[], nodeName: string): PodSandboxStatus {
  const pod = `${header.namespace}/${header.name}`;
  const ofPod = sandboxes.filter((s) => sandboxPodUid(s) === header.uid);
  if (ofPod.length === 0) throw new StreamRequestError('podNotFound', `pod "${pod}" (uid ${header.uid}) is not running on node "${nodeName}"`);
  const ready = ofPod.filter((s) => s.state === 'ready').sort((a, b) => b.createdAtMs - a.createdAtMs)[0];
  if (ready === undefined) throw new StreamRequestError('notRunning', `pod ${header.name} has no running sandbox on node "${nodeName}"`);
  return ready;
}

function sandboxPodUid(s: PodSandboxStatus): string {
  return s.labels[runtimeLabels.podUid] ?? s.podUid;
}

/** kubectl's resize message `{"Width":W,"Height":H}`, or null when it is not one (ignored, as the kubelet ignores a bad resize). */
export function parseResize(payload: Uint8Array): { readonly columns: number; readonly rows: number } | null {
  if (payload.length > streamServerLimits.controlPayloadBytesMax) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { Width: columns, Height: rows } = value as { Width?: unknown; Height?: unknown };
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= streamServerLimits.terminalSizeMax;
  return ok(columns) && ok(rows) ? { columns, rows } : null;
}

/** An error text for channel 3, bounded. */
export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > streamServerLimits.errorTextBytesMax ? `${text.slice(0, streamServerLimits.errorTextBytesMax)}…` : text;
}
