/**
 * The node agent's composition root (STYLE.md rule 4): it makes the clock, the identity and the
 * connection, the runtime and every part, passes them down, and stops them in reverse.
 *
 *   join (identity, credentials) → AgentContext
 *   → runtime → Node part → prober, env, volumes → status sink + pod manager (restore)
 *   → assignment client → rpc server
 *
 * Decision: the start order serves an agent restarted with the control plane unreachable
 * (issue 11 §6). Nothing here waits for the API or NATS: the session hands out a bus and an API
 * client that exist before the connection does (join/session.ts); the Node part reads its
 * checkpoint (pod CIDR); the pod manager restores the checkpointed pods and starts them; only
 * then do the assignment client and the rpc server start, and they reconcile once the API answers.
 * A first join is the exception: it must reach the API (the identity is made there), and its
 * refusals end the command with what to do.
 *
 * Decision: graceful stop (SIGTERM) leaves the pods running by default: the agent may be
 * upgraded or restarted without touching its workloads; `--drain-on-stop` stops them first. The
 * stop is bounded (`agentLimits.stopMs`): a part that hangs must not keep the host's service
 * manager waiting past its own kill timeout.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { SystemClock, type Clock } from '../bus/clock.js';
import type { Logger } from '../bus/logger.js';
import type { AgentContext, NodeConfig, NodeHandle, NodeServicesConfig, PodManagerHandle } from './agent-context.js';
import type { PodManager } from './kubelet/index.js';
import { startAssignmentClient, type AssignmentClient } from './assignment/index.js';
import { createEnvResolver, createClusterReader } from './env/index.js';
import { ensureIdentity, NodeSession, type JoinRequest } from './join/index.js';
import { startNode } from './node/index.js';
import { createProber } from './probes/index.js';
import { startRpcServer } from './rpc/index.js';
import { openRuntime, type ContainerRuntime } from './runtime/index.js';
import { startStreamServer } from './rpc/stream-server.js';
import { startMetricsPublisher } from './metrics/index.js';
import { createPodParts } from './pod-parts.js';
import { startServiceCatalog } from './services/index.js';
import { startServiceProxy } from './proxy/index.js';
import { createTunnelDialer, startPodNetworks, startTunnelServer } from './tunnel/index.js';
import { clusterDnsSettings, startClusterDns } from './dns/index.js';

export const agentLimits = {
  /** A graceful stop (drain included) finishes within this, then the process exits anyway. */
  stopMs: 60_000,
  /** Kubernetes' defaults (kubelet flags of the same names). */
  maxPodsDefault: 110,
  leaseDurationSecondsDefault: 40,
  leaseRenewIntervalMsDefault: 10_000,
  statusReportIntervalMsDefault: 5 * 60_000,
} as const;

export type { RuntimeName } from './runtime/index.js';
import type { CriRuntimeOptions, DockerRuntimeOptions, RuntimeName } from './runtime/index.js';
import { startAgentTelemetry } from './agent-telemetry.js';
import type { MetricsAddress } from '../bus/telemetry/index.js';
import { startImageGc, defaultImageGcLimits } from './runtime/image-gc.js';
import { localImageRefs } from './runtime/images/index.js';

export interface AgentOptions {
  /** Who the node is and how it joins (`--name`, `--dir`, `--server`, `--token`, `--ca-cert-hash`). */
  readonly join: JoinRequest;
  readonly runtime: RuntimeName;
  /** The cri and docker runtimes' settings (`--cri-socket`, `--docker-socket`, ...). */
  readonly runtimeSettings?: { readonly cri?: CriRuntimeOptions; readonly docker?: DockerRuntimeOptions };
  /** `--allow-privileged`: run containers whose securityContext asks for privileged (refused otherwise, as the kubelet does). */
  readonly allowPrivileged?: boolean;
  /** Where to serve Prometheus /metrics (`--metrics-address`); absent or null: not served (tests, hollow hosts). */
  readonly metricsAddress?: MetricsAddress | null;
  /** How often the agent publishes its metrics report (default 15 s; tests use less). */
  readonly metricsIntervalMs?: number;
  readonly node: NodeConfig;
  /** `--nats`: connect here instead of the URLs the API hands out. */
  readonly natsServers?: readonly string[];
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly wallClock?: () => Date;
}

export interface RunningAgent {
  readonly nodeName: string;
  readonly session: NodeSession;
  readonly podManager: PodManager;
  /** Resolves once NATS is connected (a test waits on it; the agent itself never does). */
  connected(): Promise<void>;
  /** Stops every part; with `drain` the pods are stopped first, else they keep running. */
  stop(options: { readonly drain: boolean }): Promise<void>;
}

export function defaultNodeConfig(overrides: Partial<NodeConfig> = {}): NodeConfig {
  return {
    labels: {}, taints: [], systemReserved: {}, maxPods: agentLimits.maxPodsDefault, leaseDurationSeconds: agentLimits.leaseDurationSecondsDefault,
    leaseRenewIntervalMs: agentLimits.leaseRenewIntervalMsDefault, statusReportIntervalMs: agentLimits.statusReportIntervalMsDefault, nodeIp: '127.0.0.1',
    services: defaultServicesConfig(overrides.nodeIp ?? '127.0.0.1'),
    ...overrides,
  };
}

/** The defaults of `kubus agent`'s service flags for a node at `nodeIp` (tests: proxy and DNS off unless asked for). */
export function defaultServicesConfig(nodeIp: string, overrides: Partial<NodeServicesConfig> = {}): NodeServicesConfig {
  return { podNetwork: hostPodNetwork(), proxy: false, nodePortAddresses: [nodeIp], clusterDns: null, clusterDomain: 'cluster.local', ...overrides };
}

/** The host's machine id (agents on one host share a pod network), else its host name. */
export function hostPodNetwork(): string {
  for (const file of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      const id = readFileSync(file, 'utf8').trim();
      if (/^[0-9a-f]{32}$/.test(id)) return `host-${id.slice(0, 12)}`;
    } catch {
      // next candidate
    }
  }
  return `host-${hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-').slice(0, 50)}`;
}

export function defaultNodeName(): string {
  return hostname().toLowerCase();
}

const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const clock = options.clock ?? new SystemClock();
  const wallClock = options.wallClock ?? (() => new Date());
  const logger = options.logger.child({ node: options.join.node });
  const env = { logger, nowMs: () => wallClock().getTime(), sleep: sleepFor };
  const joined = await ensureIdentity(options.join, env);
  const session = await NodeSession.open(joined, {
    dir: options.join.dir, clock, env, ...(options.natsServers !== undefined ? { natsServers: options.natsServers } : {}),
  });
  const ctx: AgentContext = {
    nodeName: session.node, cluster: session.cluster, dir: options.join.dir, api: session.api, bus: session.bus, clock, wallClock, logger,
  };
  let nodeHandle: NodeHandle | null = null;
  const telemetry = await startAgentTelemetry(ctx, { address: options.metricsAddress });
  const runtime: ContainerRuntime = telemetry.instrument(await openRuntime(options.runtime, {
    dir: ctx.dir, podCidr: () => nodeHandle?.podCidr() ?? null, nodeIp: options.node.nodeIp, clock, logger: logger.child({ component: 'runtime' }), wallClock,
    ...(options.runtimeSettings?.cri !== undefined ? { cri: options.runtimeSettings.cri } : {}),
    ...(options.runtimeSettings?.docker !== undefined ? { docker: options.runtimeSettings.docker } : {}),
  }));
  // Unused images go above the disk threshold (no-op for runtimes without images); the sandbox image stays.
  const imageGc = startImageGc(runtime, clock, logger, defaultImageGcLimits, { pinned: [localImageRefs.pause] });
  let podManager: PodManagerHandle | null = null;
  nodeHandle = startNode(ctx, options.node, { runtime, runningPods: () => podManager?.pods().size ?? 0 });
  const node = nodeHandle;
  // With --dir, what env and volumes last read is kept for a start while the API is unreachable (§6).
  const reader = createClusterReader({ api: ctx.api, clock, nodeName: ctx.nodeName, dir: ctx.dir, logger });
  const prober = createProber({ runtime, clock, logger });
  const envResolver = createEnvResolver({ api: ctx.api, nodeName: ctx.nodeName, logger, clock, reader });
  const pods = createPodParts(ctx, { runtime, node, prober, env: envResolver, reader, nodeIp: options.node.nodeIp, dns: clusterDnsSettings(options.node.services), observeStatus: telemetry.observeStatus, ...(options.allowPrivileged !== undefined ? { allowPrivileged: options.allowPrivileged } : {}) });
  podManager = pods.podManager;
  // §6: the checkpointed pods run again before anything waits for the API.
  await pods.podManager.restore();
  const assignments: AssignmentClient = startAssignmentClient(ctx, (update) => {
    telemetry.assigned(update);
    pods.podManager.apply(update);
  });
  const rpc = startRpcServer(ctx, { runtime });
  const streams = startStreamServer(ctx, { runtime });
  const metrics = startMetricsPublisher(ctx, { runtime, ...(options.metricsIntervalMs !== undefined ? { options: { intervalMs: options.metricsIntervalMs } } : {}) });
  const services = await startServiceParts(ctx, { runtime, node: options.node, hollow: options.runtime === 'hollow' });
  logger.info('agent started', { cluster: ctx.cluster, runtime: options.runtime, fresh: joined.fresh });

  let stopping: Promise<void> | null = null;
  const stopParts = async (drain: boolean): Promise<void> => {
    await services.stop();
    await telemetry.stop();
    imageGc.stop();
    await assignments.stop();
    await metrics.stop();
    await streams.stop();
    await rpc.stop();
    await pods.podManager.stop({ drain });
    // Deletions confirmed and statuses written by the drain go out before the connection closes.
    await pods.flush();
    pods.stop();
    await node.stop();
    await runtime.close();
    await session.stop();
  };
  return {
    nodeName: ctx.nodeName, session, podManager: pods.podManager,
    connected: () => session.connected(),
    stop({ drain }) {
      stopping ??= boundedStop(stopParts(drain), logger);
      return stopping;
    },
  };
}

/**
 * The service data path (issue 12): the tunnel's far end always (another node may reach this
 * node's pods through it); the catalog, proxy and DNS server when enabled. Hollow nodes run none
 * of the listeners (thousands of them share one host).
 */
async function startServiceParts(ctx: AgentContext, deps: { readonly runtime: ContainerRuntime; readonly node: NodeConfig; readonly hollow: boolean }): Promise<{ stop(): Promise<void> }> {
  const config = deps.node.services;
  const tunnel = deps.hollow ? null : startTunnelServer(ctx, { runtime: deps.runtime, nodeAddresses: [deps.node.nodeIp, ...config.nodePortAddresses] });
  const wantProxy = config.proxy && !deps.hollow;
  const wantDns = config.clusterDns !== null && !deps.hollow;
  const catalog = wantProxy || wantDns ? startServiceCatalog(ctx) : null;
  const podNetworks = wantProxy ? startPodNetworks(ctx, config.podNetwork) : null;
  const dialer = catalog !== null && podNetworks !== null ? createTunnelDialer(ctx) : null;
  const proxy = catalog !== null && podNetworks !== null && dialer !== null
    ? startServiceProxy(ctx, { catalog, config, nodeIp: deps.node.nodeIp, dialer, podNetworks })
    : null;
  // A DNS address that cannot be bound (taken, port 53 without privilege) leaves the node without
  // cluster DNS, said loudly, rather than without its pods.
  const dns = catalog !== null && wantDns
    ? await startClusterDns(ctx, { catalog, config }).catch((error: unknown) => {
      ctx.logger.error('cluster DNS not started; pods on this node cannot resolve cluster names', { error: error instanceof Error ? error.message : String(error) });
      return null;
    })
    : null;
  return {
    async stop() {
      await dns?.stop();
      await proxy?.stop();
      dialer?.close();
      podNetworks?.stop();
      catalog?.stop();
      await tunnel?.stop();
    },
  };
}

/** Waits for the parts to stop, at most `agentLimits.stopMs`; past it the caller exits anyway (and says so). */
async function boundedStop(stopping: Promise<void>, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), agentLimits.stopMs);
  });
  const outcome = await Promise.race([stopping.then(() => 'stopped' as const, (error: unknown) => {
    logger.error('stopping the agent failed', { error: String(error) });
    return 'stopped' as const;
  }), timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') logger.warn(`the agent did not stop within ${agentLimits.stopMs} ms; exiting anyway`);
}
