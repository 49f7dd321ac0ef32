/**
 * The container runtime seam, shaped like Kubernetes' CRI v1 (RuntimeService): a pod is a
 * sandbox (its network identity: one IP, hostname, log directory) holding containers; the
 * kubelet side (pod workers) decides what to run, the runtime only does it. Implementations:
 * `process` (host processes, pod IPs from the node's loopback pod CIDR), `hollow` (nothing runs,
 * for scale tests), `cri` (containerd over CRI v1 gRPC, runtime/cri/) and `docker` (Docker Engine,
 * runtime/docker/). Image-less runtimes (process, hollow) accept every image reference.
 *
 * Decision: container logs are files in the CRI format (`<RFC3339Nano> stdout|stderr F|P <text>`,
 * one line each, `P` for a partial line), written by the runtime at `ContainerConfig.logPath`
 * and read by the agent's log reader for every runtime alike, as the kubelet reads them for
 * containerd. Rotation: the writer renames `<logPath>` to `<logPath>.1` … `.<n>` at a size bound.
 *
 * Decision: identities are runtime-chosen opaque strings; the agent keeps the mapping pod uid →
 * sandbox id and (container name, attempt) → container id in its checkpoint, and a runtime can
 * list what it runs (by the labels below) so a restarted agent adopts instead of restarting.
 */
import type { Duplex } from 'node:stream';

/** Labels every runtime records on sandboxes and containers, so a restarted agent finds its own. */
export const runtimeLabels = {
  podUid: 'io.kubernetes.pod.uid',
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  containerName: 'io.kubernetes.container.name',
  /** The restart count this container instance was started as (CRI's attempt). */
  attempt: 'io.kubernetes.container.attempt',
} as const;

export type RuntimeName = 'process' | 'hollow' | 'cri' | 'docker';

export interface PortMapping {
  readonly containerPort: number;
  readonly hostPort?: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly hostIp?: string;
}

export interface PodSandboxConfig {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  /** Sandboxes made for this pod before (a sandbox recreated after a runtime loss is attempt 1, ...). */
  readonly attempt: number;
  readonly hostname: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  /** `spec.hostNetwork`: the sandbox uses the node's address instead of one of its own. */
  readonly hostNetwork: boolean;
  /**
   * The IP to give the sandbox when the agent already knows it (an agent restarted from its
   * checkpoint keeps each pod's address); absent: the runtime allocates one.
   */
  readonly ip?: string;
  /** Directory for this pod's container logs (`<dir>/pods/<namespace>_<name>_<uid>/`). */
  readonly logDirectory: string;
  readonly dns?: { readonly servers: readonly string[]; readonly searches: readonly string[]; readonly options: readonly string[] };
  readonly portMappings: readonly PortMapping[];
  /** Pod-level limits (sum of containers), for runtimes that enforce them in a pod cgroup. */
  readonly resources?: ContainerResources;
  /** The pod's cgroup parent (QoS class path), for runtimes that place pods in cgroups (cri, docker). */
  readonly cgroupParent?: string;
}

export interface PodSandboxStatus {
  readonly id: string;
  readonly podUid: string;
  readonly state: 'ready' | 'notready';
  /** The pod's address (status.podIP); null when the runtime has none (hollow without a CIDR). */
  readonly ip: string | null;
  readonly createdAtMs: number;
  readonly labels: Readonly<Record<string, string>>;
}

export interface Mount {
  readonly containerPath: string;
  readonly hostPath: string;
  readonly readOnly: boolean;
}

export interface ContainerResources {
  /** CPU limit in millicores (CFS quota); absent: unlimited. */
  readonly cpuLimitMillis?: number;
  /** CPU request in millicores (shares). */
  readonly cpuRequestMillis?: number;
  /** Memory limit in bytes; exceeding it is an OOM kill. */
  readonly memoryLimitBytes?: number;
}

export interface ContainerConfig {
  readonly name: string;
  readonly image: string;
  /** `command` + `args` resolved as Kubernetes does (image entrypoint unknown to process runtimes: command required there). */
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly workingDir?: string;
  /** Fully resolved environment (env, envFrom, downward API, service variables), in order. */
  readonly env: readonly { readonly name: string; readonly value: string }[];
  readonly mounts: readonly Mount[];
  readonly resources: ContainerResources;
  /** Where the runtime writes this container instance's log, CRI format. */
  readonly logPath: string;
  readonly attempt: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly stdin?: boolean;
  readonly tty?: boolean;
  /** The securityContext basics; privileged was already refused by the kubelet unless the agent allows it. */
  readonly securityContext?: ContainerSecurity;
}

export interface ContainerSecurity {
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly readOnlyRootFilesystem?: boolean;
  readonly privileged?: boolean;
}

export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** Registry credentials for one pull, from the pod's imagePullSecrets (docker config JSON), matched to the image's registry. */
export interface ImagePullAuth {
  readonly registry: string;
  readonly username?: string;
  readonly password?: string;
  readonly auth?: string;
  readonly identityToken?: string;
}

export interface ImageInfo {
  /** The runtime's image id (a digest). */
  readonly id: string;
  readonly tags: readonly string[];
  readonly sizeBytes: number;
}

/** The image store's disk (image GC removes unused images above a threshold). */
export interface ImageFsUsage {
  readonly usedBytes: number;
  readonly capacityBytes: number;
}

export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface ContainerStatus {
  readonly id: string;
  readonly sandboxId: string;
  readonly name: string;
  readonly attempt: number;
  readonly state: ContainerState;
  readonly createdAtMs: number;
  readonly startedAtMs: number | null;
  readonly finishedAtMs: number | null;
  /** Set once exited. 137 after SIGKILL, 143 after SIGTERM, as a shell reports them. */
  readonly exitCode: number | null;
  /** `OOMKilled`, `Error`, `Completed`, `ContainerCannotRun` (command not found), ... */
  readonly reason: string | null;
  readonly message: string | null;
  readonly logPath: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  /** True when the command outlived its timeout and was killed. */
  readonly timedOut: boolean;
}

/** An interactive exec or attach (later issue): streams the API server relays over `node.<N>.rpc`. */
export interface ExecSession {
  readonly stdin: NodeJS.WritableStream | null;
  readonly stdout: NodeJS.ReadableStream;
  readonly stderr: NodeJS.ReadableStream | null;
  resize(columns: number, rows: number): void;
  /** Resolves with the exit code when the command ends. */
  readonly exit: Promise<number>;
  /** Ends the session early (the client went away): exec kills its process, attach detaches; `exit` then resolves (-1 when no code is known). */
  close?(): void;
}

export interface ExecRequest {
  readonly command: readonly string[];
  readonly stdin: boolean;
  readonly tty: boolean;
}

/** Attach to a running container's main process: its output from now on, and its stdin when the container has `stdin: true`. */
export interface AttachRequest {
  readonly stdin: boolean;
  readonly tty: boolean;
}

export interface ContainerStats {
  readonly containerId: string;
  readonly timestampMs: number;
  /** Cumulative CPU time used, nanoseconds. */
  readonly cpuUsageNanos: number;
  readonly memoryWorkingSetBytes: number;
}

export interface RuntimeStatus {
  readonly runtimeReady: boolean;
  readonly networkReady: boolean;
  /** Whether memory and CPU limits are enforced (cgroups writable); the Node's status says so when not. */
  readonly resourceLimitsEnforced: boolean;
  readonly message: string | null;
}

/** A container exited (or was OOM-killed): lets pod workers react at once instead of at the next relist. */
export interface ContainerEvent {
  readonly type: 'started' | 'exited';
  readonly containerId: string;
  readonly sandboxId: string;
  readonly podUid: string;
}

export interface ContainerRuntime {
  readonly name: RuntimeName;
  version(): Promise<{ readonly runtimeName: string; readonly runtimeVersion: string }>;
  status(): Promise<RuntimeStatus>;

  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  /** Stops every container of the sandbox (SIGKILL at once: graceful stops are the caller's, per container) and releases its network. */
  stopPodSandbox(sandboxId: string): Promise<void>;
  removePodSandbox(sandboxId: string): Promise<void>;
  podSandboxStatus(sandboxId: string): Promise<PodSandboxStatus | null>;
  listPodSandboxes(): Promise<readonly PodSandboxStatus[]>;

  createContainer(sandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string>;
  startContainer(containerId: string): Promise<void>;
  /** SIGTERM, then SIGKILL after `timeoutSeconds` (0: SIGKILL at once); resolves once it has exited. */
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
  containerStatus(containerId: string): Promise<ContainerStatus | null>;
  listContainers(filter?: { readonly sandboxId?: string }): Promise<readonly ContainerStatus[]>;

  /** Runs a command in the container's environment (exec probes, preStop exec hooks). */
  execSync(containerId: string, command: readonly string[], timeoutMs: number): Promise<ExecResult>;
  /** Interactive exec; a runtime that cannot throws RuntimeUnsupportedError (hollow). */
  exec(containerId: string, request: ExecRequest): Promise<ExecSession>;
  /** Attach to the container's main process; `exit` resolves when the container exits (or the session is closed: then with -1). */
  attach(containerId: string, request: AttachRequest): Promise<ExecSession>;
  /** A byte stream to `port` inside the sandbox's network (same rule). */
  portForward(sandboxId: string, port: number): Promise<Duplex>;
  containerStats(containerId: string): Promise<ContainerStats | null>;

  /**
   * Makes `image` present per `policy` (Kubernetes' imagePullPolicy), pulling with `auth` when a
   * registry is reachable. Throws ImagePullError (ErrImagePull, ErrImageNeverPull, InvalidImageName).
   * Image-less runtimes (process, hollow) resolve at once.
   */
  ensureImage(image: string, policy: ImagePullPolicy, auth: readonly ImagePullAuth[]): Promise<void>;
  /** Images present; image-less runtimes return []. */
  listImages(): Promise<readonly ImageInfo[]>;
  /** Removes an image no container uses; throws when one does. */
  removeImage(imageId: string): Promise<void>;
  /** The image store's disk use; null when the runtime has no image store. */
  imageFsUsage(): Promise<ImageFsUsage | null>;

  /** Subscribe to container events; returns the unsubscribe function. */
  onEvent(listener: (event: ContainerEvent) => void): () => void;
  /** Releases the runtime's own resources; running containers keep running (the agent may be restarted). */
  close(): Promise<void>;
}
