/**
 * A ContainerRuntime decorator that counts and times every operation (issue 13: runtime operation
 * latency), under the kubelet's metric and operation names (`kubelet_runtime_operations_*`,
 * operation_type `run_podsandbox`, `create_container`, `pull_image`, ...), whichever runtime it wraps.
 *
 * Decision: a decorator at the composition root rather than timers inside each runtime: the four
 * runtimes are measured alike and none of them knows about metrics. Interactive calls (exec,
 * attach, port_forward) are timed until the session is open, not for its life. `onEvent`, `close`
 * and `name` pass through untimed.
 */
import type { Duplex } from 'node:stream';
import type { Clock } from '../../bus/clock.js';
import type { RuntimeMetrics } from '../../bus/telemetry/index.js';
import type {
  AttachRequest, ContainerConfig, ContainerEvent, ContainerRuntime, ContainerStats, ContainerStatus, ExecRequest, ExecResult, ExecSession,
  ImageFsUsage, ImageInfo, ImagePullAuth, ImagePullPolicy, PodSandboxConfig, PodSandboxStatus, RuntimeName, RuntimeStatus,
} from './types.js';

/** Wraps `runtime`; the result is the runtime the agent's parts use. */
export function instrumentRuntime(runtime: ContainerRuntime, deps: { readonly metrics: RuntimeMetrics; readonly clock: Clock }): ContainerRuntime {
  return new InstrumentedRuntime(runtime, deps.metrics, deps.clock);
}

class InstrumentedRuntime implements ContainerRuntime {
  readonly name: RuntimeName;

  constructor(private readonly inner: ContainerRuntime, private readonly metrics: RuntimeMetrics, private readonly clock: Clock) {
    this.name = inner.name;
  }

  private async timed<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const labels = { operation_type: operation };
    const startedMs = this.clock.now();
    this.metrics.operations.inc(labels);
    try {
      return await call();
    } catch (error) {
      this.metrics.errors.inc(labels);
      throw error;
    } finally {
      this.metrics.duration.observe(labels, (this.clock.now() - startedMs) / 1000);
    }
  }

  version(): Promise<{ readonly runtimeName: string; readonly runtimeVersion: string }> {
    return this.timed('version', () => this.inner.version());
  }
  status(): Promise<RuntimeStatus> {
    return this.timed('status', () => this.inner.status());
  }
  runPodSandbox(config: PodSandboxConfig): Promise<string> {
    return this.timed('run_podsandbox', () => this.inner.runPodSandbox(config));
  }
  stopPodSandbox(sandboxId: string): Promise<void> {
    return this.timed('stop_podsandbox', () => this.inner.stopPodSandbox(sandboxId));
  }
  removePodSandbox(sandboxId: string): Promise<void> {
    return this.timed('remove_podsandbox', () => this.inner.removePodSandbox(sandboxId));
  }
  podSandboxStatus(sandboxId: string): Promise<PodSandboxStatus | null> {
    return this.timed('podsandbox_status', () => this.inner.podSandboxStatus(sandboxId));
  }
  listPodSandboxes(): Promise<readonly PodSandboxStatus[]> {
    return this.timed('list_podsandbox', () => this.inner.listPodSandboxes());
  }
  createContainer(sandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string> {
    return this.timed('create_container', () => this.inner.createContainer(sandboxId, config, sandbox));
  }
  startContainer(containerId: string): Promise<void> {
    return this.timed('start_container', () => this.inner.startContainer(containerId));
  }
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    return this.timed('stop_container', () => this.inner.stopContainer(containerId, timeoutSeconds));
  }
  removeContainer(containerId: string): Promise<void> {
    return this.timed('remove_container', () => this.inner.removeContainer(containerId));
  }
  containerStatus(containerId: string): Promise<ContainerStatus | null> {
    return this.timed('container_status', () => this.inner.containerStatus(containerId));
  }
  listContainers(filter?: { readonly sandboxId?: string }): Promise<readonly ContainerStatus[]> {
    return this.timed('list_containers', () => this.inner.listContainers(filter));
  }
  execSync(containerId: string, command: readonly string[], timeoutMs: number): Promise<ExecResult> {
    return this.timed('exec_sync', () => this.inner.execSync(containerId, command, timeoutMs));
  }
  exec(containerId: string, request: ExecRequest): Promise<ExecSession> {
    return this.timed('exec', () => this.inner.exec(containerId, request));
  }
  attach(containerId: string, request: AttachRequest): Promise<ExecSession> {
    return this.timed('attach', () => this.inner.attach(containerId, request));
  }
  portForward(sandboxId: string, port: number): Promise<Duplex> {
    return this.timed('port_forward', () => this.inner.portForward(sandboxId, port));
  }
  containerStats(containerId: string): Promise<ContainerStats | null> {
    return this.timed('container_stats', () => this.inner.containerStats(containerId));
  }
  ensureImage(image: string, policy: ImagePullPolicy, auth: readonly ImagePullAuth[]): Promise<void> {
    return this.timed('pull_image', () => this.inner.ensureImage(image, policy, auth));
  }
  listImages(): Promise<readonly ImageInfo[]> {
    return this.timed('list_images', () => this.inner.listImages());
  }
  removeImage(imageId: string): Promise<void> {
    return this.timed('remove_image', () => this.inner.removeImage(imageId));
  }
  imageFsUsage(): Promise<ImageFsUsage | null> {
    return this.timed('image_fs_info', () => this.inner.imageFsUsage());
  }
  onEvent(listener: (event: ContainerEvent) => void): () => void {
    return this.inner.onEvent(listener);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
