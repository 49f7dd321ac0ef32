/**
 * `ContainerRuntime` over CRI v1 (containerd): every operation is one or two CRI calls; the
 * containers' logs are written by containerd itself at `ContainerConfig.logPath` in the CRI
 * format. Adoption after an agent restart needs nothing here: containerd keeps running and lists
 * what it runs (filtered by this agent's label).
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { ContainerNotFoundError, ContainerStateError, ImagePullError, PortForwardError, SandboxNotFoundError } from '../errors.js';
import type { RuntimeOptions } from '../options.js';
import type {
  AttachRequest, ContainerConfig, ContainerEvent, ContainerRuntime, ContainerStats, ContainerStatus, ExecRequest, ExecResult,
  ExecSession, ImageFsUsage, ImageInfo, ImagePullAuth, ImagePullPolicy, PodSandboxConfig, PodSandboxStatus, RuntimeStatus,
} from '../types.js';
import { localImageNameOf, type LocalImageName } from '../images/index.js';
import type { CriClient } from './client.js';
import { ContainerEventPoller } from './event-poller.js';
import { CriCallError, ImageInUseError } from './errors.js';
import { imageFsUsage, pullImage } from './image-ops.js';
import { isValidImageReference } from './image-reference.js';
import { criLimits } from './limits.js';
import { LogRotator } from './log-rotator.js';
import { agentLabel, containerRequest, sandboxRequest } from './requests.js';
import { connectToPod, exitCodeAfterAttach } from './interactive.js';
import { openRuncExec } from './runc-exec.js';
import { ContainerStatusCache } from './status-cache.js';
import { openStreamSession } from './stream-session.js';
import { containerStatusView, imageView, parseContainerInfo, pullDecision, sandboxView } from './views.js';

export interface CriRuntimeDeps {
  readonly client: CriClient;
  readonly options: RuntimeOptions;
  /** This agent's label value (a hash of its directory): what it lists and adopts. */
  readonly agent: string;
  /** runc's state root of containerd's k8s.io namespace, when known (stdin exec sessions run through runc there). */
  readonly runcStateRoot: () => string | null;
  /** Imports a local image (kubus.local/…) from its built tar: there is no registry to pull it from. */
  readonly importLocalImage: (name: LocalImageName) => Promise<void>;
  /** Images sandboxes use (the pause image): never removed by image GC though no container lists them. */
  readonly pinnedImages: readonly string[];
  /** A private containerd found dead is started again (its shims kept the pods running; containerd reconnects to them). */
  readonly revive?: () => Promise<void>;
  /** Called by close(): the private containerd keeps running, only the client goes. */
  readonly onClose?: () => void;
}

const truncate = (bytes: Buffer): Uint8Array => (bytes.length > criLimits.execOutputBytesMax ? bytes.subarray(0, criLimits.execOutputBytesMax) : bytes);

export class CriRuntime implements ContainerRuntime {
  readonly name = 'cri' as const;
  private readonly client: CriClient;
  private readonly events: ContainerEventPoller;
  private readonly logRotator: LogRotator;
  private readonly statusCache = new ContainerStatusCache();

  constructor(private readonly deps: CriRuntimeDeps) {
    this.client = deps.client;
    this.events = new ContainerEventPoller({ list: () => this.listRaw(), clock: deps.options.clock, logger: deps.options.logger });
    this.logRotator = new LogRotator({ client: deps.client, agent: deps.agent, agentLabel, clock: deps.options.clock, logger: deps.options.logger });
    this.logRotator.start();
  }

  async version(): Promise<{ readonly runtimeName: string; readonly runtimeVersion: string }> {
    const v = await this.client.call('Version', { version: 'v1' });
    return { runtimeName: v.runtimeName, runtimeVersion: v.runtimeVersion };
  }

  async status(): Promise<RuntimeStatus> {
    let response;
    try {
      response = await this.client.call('Status', { verbose: false });
    } catch (error) {
      // UNAVAILABLE (14): nothing answers on the socket.
      if (!(error instanceof CriCallError) || error.grpcCode !== 14 || this.deps.revive === undefined) throw error;
      await this.deps.revive();
      return { runtimeReady: false, networkReady: false, resourceLimitsEnforced: true, message: `containerd did not answer on ${this.client.socket}; the private containerd was started again` };
    }
    const conditions = response.status?.conditions ?? [];
    const condition = (type: string) => conditions.find((c) => c.type === type);
    const runtime = condition('RuntimeReady');
    const network = condition('NetworkReady');
    const problems = [runtime, network].filter((c) => c !== undefined && !c.status).map((c) => `${c?.type}: ${c?.reason} ${c?.message}`.trim());
    return {
      runtimeReady: runtime?.status ?? false,
      networkReady: network?.status ?? false,
      resourceLimitsEnforced: true,
      message: problems.length > 0 ? problems.join('; ') : null,
    };
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const response = await this.client.call('RunPodSandbox', { config: sandboxRequest(config, this.deps.agent), runtimeHandler: '' }, criLimits.sandboxDeadlineMs);
    return response.podSandboxId;
  }

  async stopPodSandbox(sandboxId: string): Promise<void> {
    await this.ignoreNotFound(this.client.call('StopPodSandbox', { podSandboxId: sandboxId }, criLimits.sandboxDeadlineMs));
  }

  async removePodSandbox(sandboxId: string): Promise<void> {
    await this.ignoreNotFound(this.client.call('RemovePodSandbox', { podSandboxId: sandboxId }, criLimits.sandboxDeadlineMs));
  }

  async podSandboxStatus(sandboxId: string): Promise<PodSandboxStatus | null> {
    const response = await this.ignoreNotFound(this.client.call('PodSandboxStatus', { podSandboxId: sandboxId, verbose: false }));
    const status = response?.status;
    if (!status) return null;
    return sandboxView(status, this.sandboxIp(status.linux?.namespaces?.options?.network, status.network?.ip));
  }

  async listPodSandboxes(): Promise<readonly PodSandboxStatus[]> {
    const { items } = await this.client.call('ListPodSandbox', { filter: { labelSelector: { [agentLabel]: this.deps.agent } } });
    const statuses = await Promise.all(items.map((item) => this.podSandboxStatus(item.id)));
    return statuses.filter((s): s is PodSandboxStatus => s !== null);
  }

  async createContainer(sandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string> {
    const sandboxConfig = sandboxRequest(sandbox, this.deps.agent);
    // containerd admits a privileged container only into a privileged sandbox, judged from this request's copy of the
    // sandbox config: the kubelet already refused privileged unless allowed, so the copy says so (the pause stays unprivileged).
    if (config.securityContext?.privileged === true) sandboxConfig.linux.securityContext.privileged = true;
    const request = { podSandboxId: sandboxId, config: containerRequest(config, sandbox, this.deps.agent), sandboxConfig };
    const response = await this.client.call('CreateContainer', request).catch((error: unknown) => {
      if (error instanceof CriCallError && error.notFound && /sandbox/i.test(error.details)) throw new SandboxNotFoundError(sandboxId);
      throw error;
    });
    return response.containerId;
  }

  async startContainer(containerId: string): Promise<void> {
    await this.notFoundAs(containerId, this.client.call('StartContainer', { containerId }));
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await this.notFoundAs(containerId, this.client.call('StopContainer', { containerId, timeout: timeoutSeconds }, timeoutSeconds * 1000 + criLimits.callSlackMs));
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.ignoreNotFound(this.client.call('RemoveContainer', { containerId }));
    this.statusCache.forget(containerId);
  }

  async containerStatus(containerId: string): Promise<ContainerStatus | null> {
    const response = await this.ignoreNotFound(this.client.call('ContainerStatus', { containerId, verbose: true }));
    if (!response?.status) return null;
    const info = parseContainerInfo(response.info);
    return containerStatusView(response.status, info?.sandboxId ?? '');
  }

  async listContainers(filter?: { readonly sandboxId?: string }): Promise<readonly ContainerStatus[]> {
    const listed = await this.listRaw(filter?.sandboxId);
    const statuses = await Promise.all(listed.map(async (c) => {
      const cached = this.statusCache.lookup(c);
      if (cached !== undefined) return cached;
      const response = await this.ignoreNotFound(this.client.call('ContainerStatus', { containerId: c.id, verbose: false }));
      if (!response?.status) return null;
      const status = containerStatusView(response.status, c.podSandboxId);
      this.statusCache.remember(status);
      return status;
    }));
    return statuses.filter((s): s is ContainerStatus => s !== null);
  }

  async execSync(containerId: string, command: readonly string[], timeoutMs: number): Promise<ExecResult> {
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    try {
      const response = await this.notFoundAs(containerId, this.client.call('ExecSync', { containerId, cmd: [...command], timeout: seconds }, seconds * 1000 + criLimits.callSlackMs));
      return { exitCode: response.exitCode, stdout: truncate(response.stdout), stderr: truncate(response.stderr), timedOut: false };
    } catch (error) {
      // containerd answers a command that outlived its timeout with DEADLINE_EXCEEDED (gRPC 4).
      if (error instanceof CriCallError && error.grpcCode === 4) return { exitCode: -1, stdout: new Uint8Array(), stderr: new Uint8Array(), timedOut: true };
      throw error;
    }
  }

  async exec(containerId: string, request: ExecRequest): Promise<ExecSession> {
    const stateRoot = request.stdin && !request.tty ? this.deps.runcStateRoot() : null;
    if (stateRoot !== null) {
      // Only runc can give such a session an end of stdin (stream-session.ts); it must know the container.
      const status = await this.containerStatus(containerId);
      if (status === null) throw new ContainerNotFoundError(containerId);
      if (status.state !== 'running') throw new ContainerStateError(containerId, status.state, 'exec in');
      return openRuncExec(stateRoot, containerId, request.command, join(tmpdir(), `kubus-runc-exec-${randomBytes(8).toString('hex')}.pid`));
    }
    // A tty exec always asks for stdin (kept open, unexposed when the caller wants none): without it containerd 1.6
    // closes the terminal as the command exits and its output is lost (`kubectl exec -t`).
    const { url } = await this.notFoundAs(containerId, this.client.call('Exec', {
      containerId, cmd: [...request.command], tty: request.tty, stdin: request.stdin || request.tty, stdout: true, stderr: !request.tty,
    }));
    return openStreamSession(url, { stdin: request.stdin, tty: request.tty, exitOnClose: null });
  }

  async attach(containerId: string, request: AttachRequest): Promise<ExecSession> {
    const { url } = await this.notFoundAs(containerId, this.client.call('Attach', {
      containerId, stdin: request.stdin, tty: request.tty, stdout: true, stderr: !request.tty,
    }));
    // An attach ends with the container (or the session): the exit code is the container's.
    return openStreamSession(url, { stdin: request.stdin, tty: request.tty, exitOnClose: () => exitCodeAfterAttach(containerId, { containerStatus: (id) => this.containerStatus(id), clock: this.deps.options.clock }) });
  }

  async portForward(sandboxId: string, port: number): Promise<Duplex> {
    const sandbox = await this.podSandboxStatus(sandboxId);
    if (sandbox === null) throw new SandboxNotFoundError(sandboxId);
    if (sandbox.ip === null) throw new PortForwardError(sandboxId, '(none)', port, 'the sandbox has no address');
    return connectToPod(sandboxId, sandbox.ip, port);
  }

  async containerStats(containerId: string): Promise<ContainerStats | null> {
    const response = await this.ignoreNotFound(this.client.call('ContainerStats', { containerId }));
    const stats = response?.stats;
    if (!stats) return null;
    const timestamp = stats.cpu?.timestamp ?? stats.memory?.timestamp ?? 0;
    return {
      containerId,
      timestampMs: timestamp > 0 ? Math.floor(timestamp / 1_000_000) : (this.deps.options.wallClock?.() ?? new Date()).getTime(),
      cpuUsageNanos: stats.cpu?.usageCoreNanoSeconds?.value ?? 0,
      memoryWorkingSetBytes: stats.memory?.workingSetBytes?.value ?? 0,
    };
  }

  async ensureImage(image: string, policy: ImagePullPolicy, auth: readonly ImagePullAuth[]): Promise<void> {
    if (!isValidImageReference(image)) throw new ImagePullError(image, 'InvalidImageName', 'not a valid image reference ([registry/]name[:tag][@digest], lowercase name)');
    const status = await this.client.call('ImageStatus', { image: { image }, verbose: false }).catch((error: unknown) => {
      if (error instanceof CriCallError && error.grpcCode === 3) throw new ImagePullError(image, 'InvalidImageName', error.details);
      throw error;
    });
    const decision = pullDecision(policy, status.image !== null && status.image.id !== '');
    if (decision === 'present') return;
    const local = localImageNameOf(image);
    if (local !== null) {
      // A local image (removed by image GC, or never imported) comes from its tar whatever the policy: no registry has it.
      await this.deps.importLocalImage(local).catch((error: unknown) => {
        throw new ImagePullError(image, 'ErrImagePull', `importing the local image failed: ${(error as Error).message}`);
      });
      return;
    }
    if (decision === 'neverPull') throw new ImagePullError(image, 'ErrImageNeverPull', 'the image is not present on the node and imagePullPolicy is Never');
    await pullImage(this.client, image, auth);
  }

  async listImages(): Promise<readonly ImageInfo[]> {
    return (await this.client.call('ListImages', {})).images.map(imageView);
  }

  async removeImage(imageId: string): Promise<void> {
    for (const pinned of this.deps.pinnedImages) {
      const status = await this.client.call('ImageStatus', { image: { image: pinned }, verbose: false });
      if (status.image !== null && (status.image.id === imageId || status.image.repoTags.includes(imageId))) throw new ImageInUseError(imageId, 'every pod sandbox');
    }
    const containers = await this.client.call('ListContainers', {});
    const user = containers.containers.find((c) => c.imageRef === imageId || c.image?.image === imageId);
    if (user !== undefined) throw new ImageInUseError(imageId, user.id);
    await this.ignoreNotFound(this.client.call('RemoveImage', { image: { image: imageId } }));
  }

  async imageFsUsage(): Promise<ImageFsUsage | null> {
    return imageFsUsage(this.client);
  }

  onEvent(listener: (event: ContainerEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  async close(): Promise<void> {
    this.events.stop();
    this.logRotator.stop();
    this.client.close();
    this.deps.onClose?.();
  }

  private async listRaw(sandboxId?: string) {
    const filter = { labelSelector: { [agentLabel]: this.deps.agent }, ...(sandboxId !== undefined ? { podSandboxId: sandboxId } : {}) };
    return (await this.client.call('ListContainers', { filter })).containers;
  }

  /** hostNetwork sandboxes report no address of their own: they use the node's. */
  private sandboxIp(networkMode: string | undefined, ip: string | undefined): string | null {
    if (networkMode === 'NODE') return this.deps.options.nodeIp;
    return ip !== undefined && ip !== '' ? ip : null;
  }

  private async ignoreNotFound<T>(call: Promise<T>): Promise<T | null> {
    try {
      return await call;
    } catch (error) {
      if (error instanceof CriCallError && error.notFound) return null;
      throw error;
    }
  }

  private async notFoundAs<T>(containerId: string, call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (error) {
      if (error instanceof CriCallError && error.notFound) throw new ContainerNotFoundError(containerId);
      throw error;
    }
  }
}
