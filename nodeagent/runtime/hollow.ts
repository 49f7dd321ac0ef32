/**
 * The `hollow` runtime, for scale tests (Kubernetes' kubemark): nothing runs. Sandboxes get an
 * address from the node's pod CIDR (none while the node has no CIDR), containers report Running
 * the moment they start, `execSync` succeeds, and usage comes from pod annotations:
 *
 * - `kubus.io/hollow-cpu`: CPU the pod's containers each use, a quantity (`250m`); cumulative
 *   CPU time grows at that rate from the container's start.
 * - `kubus.io/hollow-memory`: working set each container reports, a quantity (`64Mi`).
 * - `kubus.io/hollow-exit-after-seconds`: each container exits that long after it started
 *   (scripted crashes and completions for tests), with `kubus.io/hollow-exit-code` (default 0:
 *   Completed; anything else: Error).
 *
 * Decision: one process hosts hundreds of hollow agents (`kubus agent --hollow-nodes 500`), so a
 * hollow runtime holds only two maps of small records pointing at the configs it was given (no
 * copies, no files, no polling: a timer only for a scripted exit). It keeps nothing on disk: a
 * restarted hollow agent lists nothing and its pods are started again. Nothing writes logs:
 * `kubectl logs` of a hollow pod finds no file. A stopped container exits 0 when given a grace
 * (as a well-behaved program does on SIGTERM) and 137 without one.
 */
import { parseQuantity } from '../../actors/objects/quantity.js';
import type { TimerId } from '../../bus/clock.js';
import { ContainerStateError, RuntimeUnsupportedError } from './errors.js';
import { requireContainer, requireSandbox } from './lookup.js';
import { EventHub } from './event-hub.js';
import { IpAllocator, parseIpv4Cidr } from './ip-allocator.js';
import { systemWallClock, type RuntimeOptions } from './options.js';
import type {
  ContainerConfig, ContainerEvent, ContainerRuntime, ContainerState, ContainerStats, ContainerStatus, ExecResult, ExecSession,
  PodSandboxConfig, PodSandboxStatus, RuntimeStatus, ImagePullPolicy, ImagePullAuth, ImageInfo, ImageFsUsage,
} from './types.js';
import type { Duplex } from 'node:stream';

export const hollowAnnotations = {
  cpu: 'kubus.io/hollow-cpu',
  memory: 'kubus.io/hollow-memory',
  exitAfterSeconds: 'kubus.io/hollow-exit-after-seconds',
  exitCode: 'kubus.io/hollow-exit-code',
} as const;

interface HollowSandbox {
  readonly config: PodSandboxConfig;
  readonly ip: string | null;
  ready: boolean;
  readonly createdAtMs: number;
}

interface HollowContainer {
  readonly id: string;
  readonly sandboxId: string;
  readonly config: ContainerConfig;
  readonly annotations: Readonly<Record<string, string>>;
  readonly podUid: string;
  state: ContainerState;
  readonly createdAtMs: number;
  startedAtMs: number | null;
  finishedAtMs: number | null;
  exitCode: number | null;
  exitTimer: TimerId | null;
}

export class HollowRuntime implements ContainerRuntime {
  readonly name = 'hollow' as const;
  private readonly sandboxes = new Map<string, HollowSandbox>();
  private readonly containers = new Map<string, HollowContainer>();
  private readonly events: EventHub;
  private readonly wallClock: () => Date;
  private allocator: IpAllocator | null = null;
  private nextId = 1;

  constructor(private readonly options: RuntimeOptions) {
    this.events = new EventHub(options.logger);
    this.wallClock = options.wallClock ?? systemWallClock;
  }

  async version(): Promise<{ readonly runtimeName: string; readonly runtimeVersion: string }> {
    return { runtimeName: 'hollow', runtimeVersion: '0.1.0' };
  }

  async status(): Promise<RuntimeStatus> {
    return { runtimeReady: true, networkReady: true, resourceLimitsEnforced: false, message: 'hollow runtime: nothing runs, limits are not enforced' };
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const id = `hollow-sandbox-${this.nextId++}`;
    const ip = config.hostNetwork ? this.options.nodeIp : this.allocate(id, config.ip);
    this.sandboxes.set(id, { config, ip, ready: true, createdAtMs: this.wallMs() });
    return id;
  }

  async stopPodSandbox(sandboxId: string): Promise<void> {
    const sandbox = requireSandbox(this.sandboxes, sandboxId);
    for (const container of this.containers.values()) {
      if (container.sandboxId === sandboxId && container.state === 'running') this.exit(container, 137);
    }
    sandbox.ready = false;
    this.allocator?.release(sandboxId);
  }

  async removePodSandbox(sandboxId: string): Promise<void> {
    if (!this.sandboxes.has(sandboxId)) return;
    await this.stopPodSandbox(sandboxId);
    for (const container of [...this.containers.values()]) {
      if (container.sandboxId === sandboxId) this.containers.delete(container.id);
    }
    this.sandboxes.delete(sandboxId);
  }

  async podSandboxStatus(sandboxId: string): Promise<PodSandboxStatus | null> {
    const sandbox = this.sandboxes.get(sandboxId);
    return sandbox === undefined ? null : sandboxStatus(sandboxId, sandbox);
  }

  async listPodSandboxes(): Promise<readonly PodSandboxStatus[]> {
    return [...this.sandboxes].map(([id, sandbox]) => sandboxStatus(id, sandbox));
  }

  async createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    requireSandbox(this.sandboxes, sandboxId);
    const id = `hollow-container-${this.nextId++}`;
    this.containers.set(id, {
      id, sandboxId, config, annotations: sandboxConfig.annotations, podUid: sandboxConfig.uid, state: 'created',
      createdAtMs: this.wallMs(), startedAtMs: null, finishedAtMs: null, exitCode: null, exitTimer: null,
    });
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    const container = requireContainer(this.containers, containerId);
    if (container.state !== 'created') throw new ContainerStateError(containerId, container.state, 'start');
    container.state = 'running';
    container.startedAtMs = this.wallMs();
    this.emit('started', container);
    const exitAfterSeconds = parseQuantity(container.annotations[hollowAnnotations.exitAfterSeconds]);
    if (exitAfterSeconds !== undefined && exitAfterSeconds >= 0) {
      const exitCode = parseQuantity(container.annotations[hollowAnnotations.exitCode]) ?? 0;
      container.exitTimer = this.options.clock.setTimeout(() => {
        container.exitTimer = null;
        if (container.state === 'running') this.exit(container, Math.trunc(exitCode));
      }, exitAfterSeconds * 1000);
    }
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    const container = requireContainer(this.containers, containerId);
    if (container.state === 'running') this.exit(container, timeoutSeconds > 0 ? 0 : 137);
    else if (container.state === 'created') this.exit(container, 0);
  }

  async removeContainer(containerId: string): Promise<void> {
    const container = this.containers.get(containerId);
    if (container === undefined) return;
    if (container.exitTimer !== null) this.options.clock.clearTimeout(container.exitTimer);
    this.containers.delete(containerId);
  }

  async containerStatus(containerId: string): Promise<ContainerStatus | null> {
    const container = this.containers.get(containerId);
    return container === undefined ? null : containerStatus(container);
  }

  async listContainers(filter?: { readonly sandboxId?: string }): Promise<readonly ContainerStatus[]> {
    const all = [...this.containers.values()];
    return all.filter((container) => filter?.sandboxId === undefined || container.sandboxId === filter.sandboxId).map(containerStatus);
  }

  async execSync(containerId: string): Promise<ExecResult> {
    requireContainer(this.containers, containerId);
    return { exitCode: 0, stdout: new Uint8Array(), stderr: new Uint8Array(), timedOut: false };
  }

  async exec(): Promise<ExecSession> {
    throw new RuntimeUnsupportedError('hollow', 'exec', 'nothing runs in a hollow container');
  }

  async attach(): Promise<ExecSession> {
    throw new RuntimeUnsupportedError('hollow', 'attach', 'nothing runs in a hollow container');
  }

  // Nothing runs, so no image is ever needed.
  async ensureImage(_image: string, _policy: ImagePullPolicy, _auth: readonly ImagePullAuth[]): Promise<void> {}
  async listImages(): Promise<readonly ImageInfo[]> {
    return [];
  }
  async removeImage(imageId: string): Promise<void> {
    throw new RuntimeUnsupportedError('hollow', 'removeImage', `the hollow runtime has no images (asked to remove ${imageId})`);
  }
  async imageFsUsage(): Promise<ImageFsUsage | null> {
    return null;
  }

  async portForward(): Promise<Duplex> {
    throw new RuntimeUnsupportedError('hollow', 'port-forward', 'nothing listens in a hollow sandbox');
  }

  async containerStats(containerId: string): Promise<ContainerStats | null> {
    const container = this.containers.get(containerId);
    if (container === undefined) return null;
    const nowMs = this.wallMs();
    const cores = parseQuantity(container.annotations[hollowAnnotations.cpu]) ?? 0;
    const runningMs = container.startedAtMs === null ? 0 : (container.finishedAtMs ?? nowMs) - container.startedAtMs;
    const running = container.state === 'running';
    return {
      containerId,
      timestampMs: nowMs,
      cpuUsageNanos: Math.round(cores * Math.max(0, runningMs) * 1e6),
      memoryWorkingSetBytes: running ? Math.round(parseQuantity(container.annotations[hollowAnnotations.memory]) ?? 0) : 0,
    };
  }

  onEvent(listener: (event: ContainerEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  async close(): Promise<void> {
    for (const container of this.containers.values()) {
      if (container.exitTimer !== null) this.options.clock.clearTimeout(container.exitTimer);
      container.exitTimer = null;
    }
  }

  /** An address from the CIDR, or the one the agent already knows (checkpoint), held for the sandbox either way. */
  private allocate(owner: string, known: string | undefined): string | null {
    const cidr = this.options.podCidr();
    if (cidr === null) return known ?? null;
    if (this.allocator === null || this.allocator.cidr.text !== cidr) {
      this.allocator = new IpAllocator(parseIpv4Cidr(cidr), this.allocator?.snapshot());
    }
    if (known === undefined) return this.allocator.allocate(owner);
    this.allocator.reserve(known, owner);
    return known;
  }

  private exit(container: HollowContainer, exitCode: number): void {
    if (container.exitTimer !== null) this.options.clock.clearTimeout(container.exitTimer);
    container.exitTimer = null;
    container.state = 'exited';
    container.exitCode = exitCode;
    container.finishedAtMs = this.wallMs();
    this.emit('exited', container);
  }

  private emit(type: ContainerEvent['type'], container: HollowContainer): void {
    this.events.emit({ type, containerId: container.id, sandboxId: container.sandboxId, podUid: container.podUid });
  }

  private wallMs(): number {
    return this.wallClock().getTime();
  }
}

function sandboxStatus(id: string, sandbox: HollowSandbox): PodSandboxStatus {
  return { id, podUid: sandbox.config.uid, state: sandbox.ready ? 'ready' : 'notready', ip: sandbox.ip, createdAtMs: sandbox.createdAtMs, labels: sandbox.config.labels };
}

function containerStatus(container: HollowContainer): ContainerStatus {
  const exited = container.state === 'exited';
  return {
    id: container.id, sandboxId: container.sandboxId, name: container.config.name, attempt: container.config.attempt,
    state: container.state, createdAtMs: container.createdAtMs, startedAtMs: container.startedAtMs, finishedAtMs: container.finishedAtMs,
    exitCode: container.exitCode, reason: exited ? (container.exitCode === 0 ? 'Completed' : 'Error') : null, message: null,
    logPath: container.config.logPath, image: container.config.image, labels: container.config.labels,
  };
}
