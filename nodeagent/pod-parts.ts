/**
 * The pod side of the composition root: volumes, the status sink and the pod manager, wired
 * together (agent.ts calls `createPodParts`). Split from agent.ts to keep it one concept a file.
 */
import type { AgentContext, EnvResolver, NodeHandle, PodStatusSink, Prober } from './agent-context.js';
import type { ClusterReader } from './env/index.js';
import type { PodDnsSettings } from './dns/index.js';
import { createPodManager, createStatusManager, type PodManager } from './kubelet/index.js';
import type { ContainerRuntime } from './runtime/types.js';
import { createVolumeManager } from './volumes/index.js';

export interface PodPartsDeps {
  readonly runtime: ContainerRuntime;
  readonly node: NodeHandle;
  readonly prober: Prober;
  readonly env: EnvResolver;
  /** Shared by env and volumes: one read per referenced object per pod start. */
  readonly reader: ClusterReader;
  readonly nodeIp: string;
  /** Where the node's pods resolve names (dnsPolicy): the cluster DNS server and the host's resolvers. */
  readonly dns?: PodDnsSettings;
  /** `--allow-privileged`. */
  readonly allowPrivileged?: boolean;
  /** Wraps the status sink (the agent's telemetry: pod start latency, pods by phase). */
  readonly observeStatus?: <T extends PodStatusSink>(sink: T) => T;
}

export interface PodParts {
  readonly podManager: PodManager;
  /** Resolves once queued status writes and deletion confirmations went out (at once when the API does not answer: they stay queued). */
  flush(): Promise<void>;
  /** Stops the status writer (after the pod manager). */
  stop(): void;
}

export function createPodParts(ctx: AgentContext, deps: PodPartsDeps): PodParts {
  const { api, clock, logger, dir, nodeName, wallClock } = ctx;
  const volumes = createVolumeManager({ api, dir, nodeName, clock, logger, reader: deps.reader, nodeIp: deps.nodeIp, wallClock });
  const created = createStatusManager({ api, clock, logger });
  const status = deps.observeStatus === undefined ? created : deps.observeStatus(created);
  const podManager = createPodManager(ctx, {
    runtime: deps.runtime, node: deps.node, volumes, env: deps.env, prober: deps.prober, status, nodeIp: deps.nodeIp,
    ...(deps.dns !== undefined ? { dns: deps.dns } : {}),
    secretData: (namespace, name) => deps.reader.secretData(namespace, name),
    ...(deps.allowPrivileged !== undefined ? { allowPrivileged: deps.allowPrivileged } : {}),
  });
  return { podManager, flush: () => status.flush(), stop: () => status.stop() };
}
