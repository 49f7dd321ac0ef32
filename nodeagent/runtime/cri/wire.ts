/**
 * The CRI v1 messages as @grpc/proto-loader hands them to us (camelCase fields, enums as their
 * names, int64 as numbers, defaults filled in): the subset of cri-proto.ts we read and write.
 * Nanosecond timestamps as JS numbers lose sub-microsecond precision; we report milliseconds.
 */
export type Labels = Record<string, string>;

export interface WireNamespaceOption { network?: 'POD' | 'CONTAINER' | 'NODE' | 'TARGET'; pid?: 'POD' | 'CONTAINER' | 'NODE' | 'TARGET'; ipc?: 'POD' | 'CONTAINER' | 'NODE' | 'TARGET' }
export interface WireInt64 { value: number }
export interface WireUInt64 { value: number }

export interface WireLinuxResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
  oomScoreAdj?: number;
}

export interface WirePodSandboxMetadata { name: string; uid: string; namespace: string; attempt: number }

export interface WirePodSandboxConfig {
  metadata: WirePodSandboxMetadata;
  hostname: string;
  logDirectory: string;
  dnsConfig?: { servers: string[]; searches: string[]; options: string[] };
  portMappings: { protocol: 'TCP' | 'UDP' | 'SCTP'; containerPort: number; hostPort: number; hostIp: string }[];
  labels: Labels;
  annotations: Labels;
  linux: {
    cgroupParent: string;
    securityContext: { namespaceOptions: WireNamespaceOption; privileged?: boolean };
    resources?: WireLinuxResources;
  };
}

export type WireSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export interface WirePodSandboxStatus {
  id: string;
  metadata: WirePodSandboxMetadata | null;
  state: WireSandboxState;
  createdAt: number;
  network: { ip: string } | null;
  linux: { namespaces: { options: WireNamespaceOption | null } | null } | null;
  labels: Labels;
  annotations: Labels;
}

export interface WirePodSandbox {
  id: string;
  metadata: WirePodSandboxMetadata | null;
  state: WireSandboxState;
  createdAt: number;
  labels: Labels;
  annotations: Labels;
}

export interface WireContainerConfig {
  metadata: { name: string; attempt: number };
  image: { image: string };
  command: string[];
  args: string[];
  workingDir: string;
  envs: { key: string; value: string }[];
  mounts: { containerPath: string; hostPath: string; readonly: boolean }[];
  labels: Labels;
  annotations: Labels;
  logPath: string;
  stdin: boolean;
  stdinOnce: boolean;
  tty: boolean;
  linux: {
    resources: WireLinuxResources;
    securityContext: {
      privileged: boolean;
      namespaceOptions: WireNamespaceOption;
      runAsUser?: WireInt64;
      runAsGroup?: WireInt64;
      readonlyRootfs: boolean;
    };
  };
}

export type WireContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface WireContainer {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number } | null;
  image: { image: string } | null;
  imageRef: string;
  state: WireContainerState;
  createdAt: number;
  labels: Labels;
  annotations: Labels;
}

export interface WireContainerStatus {
  id: string;
  metadata: { name: string; attempt: number } | null;
  state: WireContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  image: { image: string } | null;
  imageRef: string;
  reason: string;
  message: string;
  labels: Labels;
  annotations: Labels;
  logPath: string;
}

export interface WireContainerStats {
  attributes: { id: string } | null;
  cpu: { timestamp: number; usageCoreNanoSeconds: WireUInt64 | null } | null;
  memory: { timestamp: number; workingSetBytes: WireUInt64 | null } | null;
}

export interface WireImage { id: string; repoTags: string[]; repoDigests: string[]; size: number }

export interface WireFilesystemUsage { timestamp: number; fsId: { mountpoint: string } | null; usedBytes: WireUInt64 | null }

export interface WireAuthConfig { username?: string; password?: string; auth?: string; serverAddress?: string; identityToken?: string }

/** Method name → [request, response] of the two services. */
export interface CriMethods {
  Version: [{ version: string }, { version: string; runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }];
  Status: [{ verbose: boolean }, { status: { conditions: { type: string; status: boolean; reason: string; message: string }[] } | null; info: Labels }];
  RunPodSandbox: [{ config: WirePodSandboxConfig; runtimeHandler: string }, { podSandboxId: string }];
  StopPodSandbox: [{ podSandboxId: string }, object];
  RemovePodSandbox: [{ podSandboxId: string }, object];
  PodSandboxStatus: [{ podSandboxId: string; verbose: boolean }, { status: WirePodSandboxStatus | null; info: Labels }];
  ListPodSandbox: [{ filter?: { id?: string; labelSelector?: Labels } }, { items: WirePodSandbox[] }];
  CreateContainer: [{ podSandboxId: string; config: WireContainerConfig; sandboxConfig: WirePodSandboxConfig }, { containerId: string }];
  StartContainer: [{ containerId: string }, object];
  StopContainer: [{ containerId: string; timeout: number }, object];
  RemoveContainer: [{ containerId: string }, object];
  ListContainers: [{ filter?: { id?: string; podSandboxId?: string; labelSelector?: Labels } }, { containers: WireContainer[] }];
  ContainerStatus: [{ containerId: string; verbose: boolean }, { status: WireContainerStatus | null; info: Labels }];
  ExecSync: [{ containerId: string; cmd: string[]; timeout: number }, { stdout: Buffer; stderr: Buffer; exitCode: number }];
  Exec: [{ containerId: string; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }, { url: string }];
  Attach: [{ containerId: string; stdin: boolean; tty: boolean; stdout: boolean; stderr: boolean }, { url: string }];
  ContainerStats: [{ containerId: string }, { stats: WireContainerStats | null }];
  ReopenContainerLog: [{ containerId: string }, object];
  ListImages: [{ filter?: { image: { image: string } } }, { images: WireImage[] }];
  ImageStatus: [{ image: { image: string }; verbose: boolean }, { image: WireImage | null }];
  PullImage: [{ image: { image: string }; auth?: WireAuthConfig }, { imageRef: string }];
  RemoveImage: [{ image: { image: string } }, object];
  ImageFsInfo: [object, { imageFilesystems: WireFilesystemUsage[] }];
}

export type CriMethod = keyof CriMethods;
export const imageServiceMethods: ReadonlySet<CriMethod> = new Set<CriMethod>(['ListImages', 'ImageStatus', 'PullImage', 'RemoveImage', 'ImageFsInfo']);
