/**
 * The `docker` runtime: the CRI-shaped contract over the Docker Engine API (dockerode). A pod is
 * a pause container (the sandbox: network namespace, hostname, DNS, hostPorts) and its containers
 * join it (create-specs.ts). The runtime keeps no files: every fact is a label in the engine
 * (labels.ts), so a restarted agent lists its own containers and adopts them, running; it only
 * resumes copying their logs into CRI files (log-pump.ts) and listening to the engine's events
 * (event-stream.ts).
 *
 * Decision: the sandbox id is the pause container's id and a container id the engine's, so an
 * operation is one engine request with no mapping to keep. Statuses come from inspect, reused
 * while the engine's list shows the same state (inspect-cache.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import type { ContainerInspectInfo } from 'dockerode';
import { ContainerNotFoundError, ContainerStateError, ImagePullError, SandboxNotFoundError } from '../errors.js';
import { EventHub } from '../event-hub.js';
import { systemWallClock, type RuntimeOptions } from '../options.js';
import { connectPort } from '../process/streams.js';
import { runtimeLabels } from '../types.js';
import type {
  AttachRequest, ContainerConfig, ContainerEvent, ContainerRuntime, ContainerStats, ContainerStatus, ExecRequest, ExecResult, ExecSession,
  ImageFsUsage, ImageInfo, ImagePullAuth, ImagePullPolicy, PodSandboxConfig, PodSandboxStatus, RuntimeStatus,
} from '../types.js';
import { containerSpec, sandboxSpec } from './create-specs.js';
import { EngineEventStream } from './event-stream.js';
import * as images from './images.js';
import { InspectCache } from './inspect-cache.js';
import { InitFailures } from './init-failure.js';
import { dockerLabels, ownerFilter, ownerOf } from './labels.js';
import { dockerLimits as limits } from './limits.js';
import { LogPumps } from './log-pumps.js';
import { execSync, startAttach, startExec } from './sessions.js';
import { withTimeout, type Engine } from './timeout.js';
import { containerStatusOf, sandboxStatusOf } from './views.js';
import { ignoreNotFound, statusCode } from './engine-errors.js';
import { cpuUsageNanos, workingSetBytes, type EngineStats } from './stats.js';

export interface DockerRuntimeSettings {
  readonly sandboxImage: string;
  readonly network: string;
  readonly namePrefix: string;
  /** Where the engine listens, for messages. */
  readonly endpoint: string;
}

export class DockerRuntime implements ContainerRuntime {
  readonly name = 'docker' as const;
  private readonly owner: string;
  private readonly events: EventHub;
  private readonly inspections = new InspectCache();
  private readonly initFailures: InitFailures;
  private readonly pumps: LogPumps;
  private readonly engineEvents: EngineEventStream;
  private readonly wallClock: () => Date;
  private readonly engine: Engine;
  private sandboxImageSeen = false;

  constructor(private readonly docker: Dockerode, private readonly options: RuntimeOptions, private readonly settings: DockerRuntimeSettings) {
    this.owner = ownerOf(options.dir);
    this.engine = { docker, clock: options.clock };
    this.initFailures = new InitFailures(this.engine);
    this.pumps = new LogPumps(docker, { clock: options.clock, logger: options.logger });
    this.events = new EventHub(options.logger);
    this.wallClock = options.wallClock ?? systemWallClock;
    this.engineEvents = new EngineEventStream(docker, {
      owner: this.owner, clock: options.clock, logger: options.logger, wallMs: () => this.wallClock().getTime(),
      onEvent: (event) => {
        this.inspections.drop(event.containerId);
        this.events.emit({ type: event.type, containerId: event.containerId, sandboxId: event.sandboxId, podUid: event.podUid });
      },
    });
  }

  /** Starts listening to the engine and adopts what an earlier instance over the same `--dir` left running. */
  async start(): Promise<void> {
    this.engineEvents.start();
    const containers = await this.list('container', []);
    await Promise.all(containers.map(async (listed) => {
      const info = await this.inspect(listed.Id).catch(() => null);
      if (info !== null) this.pumps.follow(info.Id, info.Config.Labels[dockerLabels.logPath] ?? '', info.Config.Tty);
    }));
  }

  async version(): Promise<{ readonly runtimeName: string; readonly runtimeVersion: string }> {
    const version = await this.request(this.docker.version(), 'version');
    return { runtimeName: 'docker', runtimeVersion: version.Version };
  }

  /** The engine down is a status (the Node's Ready condition says so), not an error of the caller. */
  async status(): Promise<RuntimeStatus> {
    let info: { MemoryLimit?: boolean; CpuCfsQuota?: boolean };
    try {
      info = (await this.request(this.docker.info(), 'info')) as typeof info;
    } catch (error) {
      const message = `the docker engine at ${this.settings.endpoint} does not answer: ${images.engineMessage(error)}`;
      return { runtimeReady: false, networkReady: false, resourceLimitsEnforced: false, message };
    }
    const network = this.settings.network === 'bridge' || this.settings.network === 'host'
      ? true
      : await this.request(this.docker.getNetwork(this.settings.network).inspect(), 'network').then(() => true, () => false);
    const limited = info.MemoryLimit === true && info.CpuCfsQuota === true;
    const notes = [
      network ? null : `docker network ${this.settings.network} does not exist (docker network create ${this.settings.network})`,
      limited ? null : 'the engine reports memory or CPU quota limits unsupported',
    ].filter((note): note is string => note !== null);
    return { runtimeReady: true, networkReady: network, resourceLimitsEnforced: limited, message: notes.length === 0 ? null : notes.join('; ') };
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    // The pause image is checked once, not per pod (image GC pins it); a create that misses it checks again.
    if (!this.sandboxImageSeen) await images.ensureImage(this.engine, this.settings.sandboxImage, 'IfNotPresent', []);
    this.sandboxImageSeen = true;
    const spec = sandboxSpec(config, { owner: this.owner, image: this.settings.sandboxImage, network: this.settings.network, namePrefix: this.settings.namePrefix, nameSuffix: suffix() });
    const container = await this.request(this.docker.createContainer(spec), 'create sandbox').catch((error: unknown) => {
      if (statusCode(error) !== 404) throw error;
      this.sandboxImageSeen = false;
      throw new ImagePullError(this.settings.sandboxImage, 'ErrImageNeverPull', `the pause image is gone from this node: ${images.engineMessage(error)}`);
    });
    try {
      await this.request(container.start(), 'start sandbox');
    } catch (error) {
      await container.remove({ force: true }).catch(() => undefined);
      throw error;
    }
    return container.id;
  }

  async stopPodSandbox(sandboxId: string): Promise<void> {
    await this.requireSandbox(sandboxId);
    const members = await this.list('container', [`${dockerLabels.sandbox}=${sandboxId}`]);
    await Promise.all(members.map((member) => this.stopContainer(member.Id, 0).catch(ignoreNotFound)));
    await this.stopEngineContainer(sandboxId, 0);
  }

  /** Removes the sandbox and its containers; one already gone (or another agent's) is left alone. */
  async removePodSandbox(sandboxId: string): Promise<void> {
    const members = await this.list('container', [`${dockerLabels.sandbox}=${sandboxId}`]);
    await Promise.all(members.map((member) => this.removeContainer(member.Id)));
    const [own] = await this.list('sandbox', [], sandboxId);
    if (own !== undefined) await this.removeEngineContainer(sandboxId);
  }

  async podSandboxStatus(sandboxId: string): Promise<PodSandboxStatus | null> {
    const [found] = await this.list('sandbox', [], sandboxId);
    return found === undefined ? null : sandboxStatusOf(found, this.options.nodeIp);
  }

  async listPodSandboxes(): Promise<readonly PodSandboxStatus[]> {
    return (await this.list('sandbox', [])).map((info) => sandboxStatusOf(info, this.options.nodeIp));
  }

  async createContainer(sandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string> {
    await this.requireSandbox(sandboxId);
    const spec = containerSpec(config, sandbox, { owner: this.owner, sandboxId, namePrefix: this.settings.namePrefix, nameSuffix: suffix() });
    try {
      return (await this.request(this.docker.createContainer(spec), 'create container')).id;
    } catch (error) {
      if (statusCode(error) === 404) throw new ImagePullError(config.image, 'ErrImageNeverPull', `the image is not present on this node: ${images.engineMessage(error)}`);
      throw error;
    }
  }

  async startContainer(containerId: string): Promise<void> {
    const info = await this.inspectOrThrow(containerId);
    if (info.State.Status !== 'created') throw new ContainerStateError(containerId, info.State.Status, 'start');
    try {
      await this.request(this.docker.getContainer(containerId).start(), 'start container');
    } catch (error) {
      // The engine could not run the process (no such executable, ...): the container is over,
      // as ContainerCannotRun with the engine's message (views.ts), not an error of the runtime.
      this.inspections.drop(containerId);
      if (statusCode(error) === 404) throw new ContainerNotFoundError(containerId);
      this.options.logger.info('container cannot run', { containerId, error: images.engineMessage(error) });
      this.emitFor(info, 'exited');
      return;
    } finally {
      this.inspections.drop(containerId);
    }
    this.pumps.follow(containerId, info.Config.Labels[dockerLabels.logPath] ?? '', info.Config.Tty);
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await this.inspectOrThrow(containerId);
    await this.stopEngineContainer(containerId, timeoutSeconds);
  }

  /** Removes the container; one already gone (or another agent's) is left alone. */
  async removeContainer(containerId: string): Promise<void> {
    const info = await this.inspect(containerId);
    if (info === null || info.Config.Labels[dockerLabels.owner] !== this.owner) return;
    // The last lines reach the file before the engine's own log goes with the container.
    await this.stopEngineContainer(containerId, 0).catch(ignoreNotFound);
    await this.pumps.finish(containerId);
    await this.removeEngineContainer(containerId);
  }

  async containerStatus(containerId: string): Promise<ContainerStatus | null> {
    const info = await this.inspect(containerId);
    return info === null || info.Config.Labels[dockerLabels.owner] !== this.owner || info.Config.Labels[dockerLabels.kind] !== 'container' ? null : this.statusOf(info);
  }

  async listContainers(filter?: { readonly sandboxId?: string }): Promise<readonly ContainerStatus[]> {
    const extra = filter?.sandboxId === undefined ? [] : [`${dockerLabels.sandbox}=${filter.sandboxId}`];
    const listed = await this.list('container', extra);
    if (filter?.sandboxId === undefined) this.inspections.retain(new Set(listed.map((info) => info.Id)));
    const statuses = await Promise.all(listed.map(async (entry) => {
      const info = this.inspections.get(entry.Id, entry.State) ?? await this.inspect(entry.Id);
      return info === null ? null : this.statusOf(info);
    }));
    return statuses.filter((status): status is ContainerStatus => status !== null);
  }

  async execSync(containerId: string, command: readonly string[], timeoutMs: number): Promise<ExecResult> {
    await this.requireRunning(containerId, 'exec in');
    return execSync(this.engine, containerId, command, timeoutMs);
  }

  async exec(containerId: string, request: ExecRequest): Promise<ExecSession> {
    await this.requireRunning(containerId, 'exec in');
    return startExec(this.engine, containerId, request);
  }

  async attach(containerId: string, request: AttachRequest): Promise<ExecSession> {
    await this.requireRunning(containerId, 'attach to');
    return startAttach(this.engine, containerId, request);
  }

  async portForward(sandboxId: string, port: number): Promise<Duplex> {
    const sandbox = await this.podSandboxStatus(sandboxId);
    if (sandbox === null) throw new SandboxNotFoundError(sandboxId);
    return connectPort(sandboxId, sandbox.ip ?? this.options.nodeIp, port);
  }

  async containerStats(containerId: string): Promise<ContainerStats | null> {
    try {
      const stats = (await this.request(this.docker.getContainer(containerId).stats({ stream: false, 'one-shot': true }), 'stats')) as unknown as EngineStats;
      return { containerId, timestampMs: this.wallClock().getTime(), cpuUsageNanos: cpuUsageNanos(stats), memoryWorkingSetBytes: workingSetBytes(stats) };
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  ensureImage(image: string, policy: ImagePullPolicy, auth: readonly ImagePullAuth[]): Promise<void> {
    return images.ensureImage(this.engine, image, policy, auth);
  }

  listImages(): Promise<readonly ImageInfo[]> {
    return images.listImages(this.engine);
  }

  removeImage(imageId: string): Promise<void> {
    return images.removeImage(this.engine, imageId);
  }

  imageFsUsage(): Promise<ImageFsUsage | null> {
    return images.imageFsUsage(this.engine);
  }

  onEvent(listener: (event: ContainerEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  async close(): Promise<void> {
    this.engineEvents.close();
    this.pumps.closeAll();
  }

  private async statusOf(info: ContainerInspectInfo): Promise<ContainerStatus> {
    return containerStatusOf(info, await this.initFailures.of(info));
  }

  private async list(kind: 'sandbox' | 'container', extra: readonly string[], id?: string): Promise<Dockerode.ContainerInfo[]> {
    const filters = { ...ownerFilter(this.owner, kind, extra), ...(id === undefined ? {} : { id: [id] }) };
    const listed = await this.request(this.docker.listContainers({ all: true, filters: JSON.stringify(filters) }), `list ${kind}s`);
    // The engine's id filter matches prefixes: keep only the exact one.
    return id === undefined ? listed : listed.filter((info) => info.Id === id);
  }

  private async requireSandbox(sandboxId: string): Promise<void> {
    const [found] = await this.list('sandbox', [], sandboxId);
    if (found === undefined) throw new SandboxNotFoundError(sandboxId);
  }

  private async requireRunning(containerId: string, operation: string): Promise<void> {
    const info = await this.inspectOrThrow(containerId);
    if (!info.State.Running) throw new ContainerStateError(containerId, info.State.Status, operation);
  }

  private async inspect(containerId: string): Promise<ContainerInspectInfo | null> {
    try {
      const info = await this.request(this.docker.getContainer(containerId).inspect(), 'inspect');
      this.inspections.put(info);
      return info;
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  private async inspectOrThrow(containerId: string): Promise<ContainerInspectInfo> {
    const info = await this.inspect(containerId);
    if (info === null || info.Config.Labels[dockerLabels.owner] !== this.owner) throw new ContainerNotFoundError(containerId);
    return info;
  }

  /** Stop with the engine's grace (SIGTERM, SIGKILL after `t`); resolves once stopped. Already stopped is fine. */
  private async stopEngineContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    try {
      await withTimeout(this.options.clock, this.docker.getContainer(containerId).stop({ t: timeoutSeconds }), timeoutSeconds * 1000 + limits.killSettleMs, `stop ${containerId}`);
    } catch (error) {
      if (statusCode(error) === 404) throw new ContainerNotFoundError(containerId);
      if (statusCode(error) !== 304) throw error;
    } finally {
      this.inspections.drop(containerId);
    }
  }

  private async removeEngineContainer(containerId: string): Promise<void> {
    this.initFailures.drop(containerId);
    this.pumps.close(containerId);
    this.inspections.drop(containerId);
    try {
      await this.request(this.docker.getContainer(containerId).remove({ force: true, v: true }), `remove ${containerId}`);
    } catch (error) {
      // Gone already, or its removal is under way (409): either way it will not run again.
      if (statusCode(error) !== 404 && statusCode(error) !== 409) throw error;
    }
  }

  private emitFor(info: ContainerInspectInfo, type: ContainerEvent['type']): void {
    const labels = info.Config.Labels;
    this.events.emit({ type, containerId: info.Id, sandboxId: labels[dockerLabels.sandbox] ?? '', podUid: labels[runtimeLabels.podUid] ?? '' });
  }

  private request<T>(promise: Promise<T>, what: string): Promise<T> {
    return withTimeout(this.options.clock, promise, limits.requestTimeoutMs, `${this.settings.endpoint} (${what})`);
  }
}

function suffix(): string {
  return randomBytes(3).toString('hex');
}
