/**
 * An in-memory ContainerRuntime for the kubelet's unit tests: sandboxes and containers are
 * records, nothing runs. Tests make containers exit (`exit`), choose what a start does
 * (`onStart`), and read the order of calls (`calls`), which is how graceful deletion's order and
 * "adopted, not restarted" are asserted. Fakes of the other seams (volumes, env, prober, status
 * sink) sit beside it and write to the same call log.
 */
import type { Duplex } from 'node:stream';
import type { LifecycleHandler, Pod } from 'kubernetes-types/core/v1.js';
import type { EnvResolver, PodStatusSink, PodVolumes, Prober, ProbeTarget, ProbeTransition, VolumeManager } from '../../nodeagent/agent-context.js';
import type {
  ContainerConfig, ContainerEvent, ContainerRuntime, ContainerStatus, PodSandboxConfig, PodSandboxStatus, RuntimeName,
} from '../../nodeagent/runtime/types.js';

export interface FakeExit {
  readonly exitCode: number;
  readonly reason?: string;
}

export class FakeRuntime implements ContainerRuntime {
  readonly calls: string[] = [];
  readonly sandboxes = new Map<string, PodSandboxStatus & { config: PodSandboxConfig }>();
  readonly containers = new Map<string, ContainerStatus>();
  /** What a started container does at once: null keeps it running. */
  onStart: (config: ContainerConfig) => FakeExit | null = () => null;
  private listeners = new Set<(event: ContainerEvent) => void>();
  private nextId = 1;
  private nextIp = 1;

  constructor(readonly wallMs: () => number, readonly name: RuntimeName = 'hollow') {}

  async version() {
    return { runtimeName: 'fake', runtimeVersion: '0' };
  }
  async status() {
    return { runtimeReady: true, networkReady: true, resourceLimitsEnforced: false, message: null };
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const id = `sb${this.nextId++}`;
    this.calls.push(`runPodSandbox ${config.name}`);
    const ip = config.ip ?? `10.0.0.${this.nextIp++}`;
    this.sandboxes.set(id, { id, podUid: config.uid, state: 'ready', ip, createdAtMs: this.wallMs(), labels: config.labels, config });
    return id;
  }
  async stopPodSandbox(sandboxId: string): Promise<void> {
    this.calls.push(`stopPodSandbox ${sandboxId}`);
    for (const c of this.containers.values()) if (c.sandboxId === sandboxId && c.state === 'running') this.finish(c.id, { exitCode: 137 });
    const sandbox = this.sandboxes.get(sandboxId);
    if (sandbox !== undefined) this.sandboxes.set(sandboxId, { ...sandbox, state: 'notready' });
  }
  async removePodSandbox(sandboxId: string): Promise<void> {
    this.calls.push(`removePodSandbox ${sandboxId}`);
    this.sandboxes.delete(sandboxId);
    for (const c of [...this.containers.values()]) if (c.sandboxId === sandboxId) this.containers.delete(c.id);
  }
  async podSandboxStatus(sandboxId: string) {
    return this.sandboxes.get(sandboxId) ?? null;
  }
  async listPodSandboxes() {
    return [...this.sandboxes.values()];
  }

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const id = `c${this.nextId++}`;
    this.calls.push(`createContainer ${config.name}#${config.attempt}`);
    this.containers.set(id, {
      id, sandboxId, name: config.name, attempt: config.attempt, state: 'created', createdAtMs: this.wallMs(), startedAtMs: null,
      finishedAtMs: null, exitCode: null, reason: null, message: null, logPath: config.logPath, image: config.image, labels: config.labels,
    });
    this.configs.set(id, config);
    return id;
  }
  readonly configs = new Map<string, ContainerConfig>();

  async startContainer(containerId: string): Promise<void> {
    const c = this.mustGet(containerId);
    this.calls.push(`startContainer ${c.name}#${c.attempt}`);
    this.containers.set(containerId, { ...c, state: 'running', startedAtMs: this.wallMs() });
    this.emit('started', containerId);
    const exit = this.onStart(this.configs.get(containerId)!);
    if (exit !== null) this.finish(containerId, exit);
  }
  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    const c = this.mustGet(containerId);
    this.calls.push(`stopContainer ${c.name} ${timeoutSeconds}`);
    if (c.state === 'running') this.finish(containerId, { exitCode: timeoutSeconds > 0 ? 143 : 137 });
  }
  async removeContainer(containerId: string): Promise<void> {
    this.calls.push(`removeContainer ${containerId}`);
    this.containers.delete(containerId);
  }
  async containerStatus(containerId: string) {
    return this.containers.get(containerId) ?? null;
  }
  async listContainers(filter?: { readonly sandboxId?: string }) {
    return [...this.containers.values()].filter((c) => filter?.sandboxId === undefined || c.sandboxId === filter.sandboxId);
  }
  async execSync() {
    return { exitCode: 0, stdout: new Uint8Array(), stderr: new Uint8Array(), timedOut: false };
  }
  async exec(): Promise<never> {
    throw new Error('fake runtime: no exec');
  }
  async portForward(): Promise<Duplex> {
    throw new Error('fake runtime: no port-forward');
  }
  async attach(): Promise<never> {
    throw new Error('fake runtime: no attach');
  }
  /** Images the test made unpullable: ensureImage throws the given error for them. */
  readonly imageFailures = new Map<string, Error>();
  async ensureImage(image: string): Promise<void> {
    const failure = this.imageFailures.get(image);
    if (failure !== undefined) throw failure;
  }
  async listImages() {
    return [];
  }
  async removeImage(): Promise<void> {}
  async imageFsUsage() {
    return null;
  }
  async containerStats() {
    return null;
  }
  onEvent(listener: (event: ContainerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async close(): Promise<void> {}

  /** The container `name` of the pod `podUid` exits now (the test's kill -9, OOM, crash). */
  exitByName(podUid: string, name: string, exit: FakeExit): void {
    const running = this.find(podUid, name).filter((c) => c.state === 'running');
    for (const c of running) this.finish(c.id, exit);
  }
  /** The pod's instances of container `name`, oldest attempt first. */
  find(podUid: string, name: string): ContainerStatus[] {
    return [...this.containers.values()]
      .filter((c) => c.name === name && this.sandboxes.get(c.sandboxId)?.podUid === podUid)
      .sort((a, b) => a.attempt - b.attempt);
  }
  running(podUid: string, name: string): ContainerStatus | undefined {
    return this.find(podUid, name).find((c) => c.state === 'running');
  }

  private finish(containerId: string, exit: FakeExit): void {
    const c = this.mustGet(containerId);
    this.containers.set(containerId, {
      ...c, state: 'exited', finishedAtMs: this.wallMs(), exitCode: exit.exitCode,
      reason: exit.reason ?? (exit.exitCode === 0 ? 'Completed' : 'Error'),
    });
    this.emit('exited', containerId);
  }
  private emit(type: ContainerEvent['type'], containerId: string): void {
    const c = this.mustGet(containerId);
    const podUid = this.sandboxes.get(c.sandboxId)?.podUid ?? '';
    for (const listener of this.listeners) listener({ type, containerId, sandboxId: c.sandboxId, podUid });
  }
  private mustGet(containerId: string): ContainerStatus {
    const c = this.containers.get(containerId);
    if (c === undefined) throw new Error(`fake runtime: no container ${containerId}`);
    return c;
  }
}

export class FakeVolumes implements VolumeManager {
  constructor(private readonly calls: string[]) {}
  /** While set, setUp fails with it (a configMap that does not exist yet). */
  failSetUp: Error | null = null;
  async setUp(pod: Pod): Promise<PodVolumes> {
    this.calls.push(`volumes.setUp ${pod.metadata?.name}`);
    if (this.failSetUp !== null) throw this.failSetUp;
    return { mountsFor: () => [] };
  }
  async refresh(pod: Pod): Promise<void> {
    this.calls.push(`volumes.refresh ${pod.metadata?.name}`);
  }
  async tearDown(pod: Pod): Promise<void> {
    this.calls.push(`volumes.tearDown ${pod.metadata?.name}`);
  }
}

export const fakeEnv: EnvResolver = {
  async resolve(_pod, container, podIp) {
    return [{ name: 'POD_IP', value: podIp ?? '' }, ...(container.env ?? []).map((e) => ({ name: e.name, value: e.value ?? '' }))];
  },
};

/** Probes run only when a test says so (`fire`); hooks answer `hookResult` and are logged. */
export class FakeProber implements Prober {
  hookResult = { ok: true, message: '' };
  /** While set, hooks wait for it (a preStop still running). */
  hookGate: Promise<void> | null = null;
  readonly active = new Map<string, { target: ProbeTarget; listener: (t: ProbeTransition) => void }>();
  constructor(private readonly calls: string[]) {}
  start(target: ProbeTarget, listener: (transition: ProbeTransition) => void) {
    this.active.set(target.containerId, { target, listener });
    return { stop: () => void this.active.delete(target.containerId) };
  }
  async runHook(handler: LifecycleHandler, target: ProbeTarget, timeoutMs: number) {
    this.calls.push(`hook ${handler.exec?.command?.join(' ') ?? 'hook'} ${target.container.name} ${timeoutMs}`);
    if (this.hookGate !== null) await this.hookGate;
    return this.hookResult;
  }
  async runOnce() {
    return { outcome: 'success' as const, message: '' };
  }
  /** Reports a probe transition for the running instance of `container`. */
  fire(container: string, transition: ProbeTransition): void {
    for (const { target, listener } of this.active.values()) if (target.container.name === container) listener(transition);
  }
}

export class FakeStatusSink implements PodStatusSink {
  readonly latest = new Map<string, NonNullable<Pod['status']>>();
  readonly history: NonNullable<Pod['status']>[] = [];
  constructor(private readonly calls: string[]) {}
  set(pod: Pod, status: NonNullable<Pod['status']>): void {
    this.latest.set(pod.metadata?.uid ?? '', status);
    this.history.push(status);
  }
  confirmDeletion(pod: Pod): void {
    this.calls.push(`confirmDeletion ${pod.metadata?.name}`);
  }
}
