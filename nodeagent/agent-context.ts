/**
 * The seams between the parts of a node agent, so each part is built and tested alone and
 * `agent.ts` (the composition root) only wires them:
 *
 *   join (identity, credentials) → AgentContext
 *   node (Node object, Lease, host conditions)          ─┐
 *   assignment client (list + relay stream) → updates ──→ pod manager → one pod worker per pod
 *                                                           uses: runtime, volumes, env, probes, status sink
 *   rpc server (logs; later exec, port-forward)          ─┘ reads log files (log-paths.ts)
 *
 * Decision: every part talks to the cluster only through `AgentContext.api` (the Kubernetes API
 * over NATS, with the node's own token), as the mission demands of every component; the bus is
 * given raw only to the parts that own a subject (the assignment client, the rpc server).
 */
import type { Container, Node, Pod, Probe, LifecycleHandler, Taint } from 'kubernetes-types/core/v1.js';
import type { Bus } from '../bus/transport.js';
import type { Clock } from '../bus/clock.js';
import type { Logger } from '../bus/logger.js';
import type { ApiClient } from '../actors/controllers/runtime/types.js';
import type { ContainerRuntime, Mount } from './runtime/types.js';

export interface AgentContext {
  readonly nodeName: string;
  readonly cluster: string;
  /** `--dir`: identity, checkpoint, pod directories, logs; 0700. */
  readonly dir: string;
  /** The API over NATS as `system:node:<name>` (its bearer token renewed by the join part). */
  readonly api: ApiClient;
  /** The agent's NATS connection (its own user, `agentPermissions`). */
  readonly bus: Bus;
  readonly clock: Clock;
  /** Wall time for Kubernetes timestamps (Lease renewTime, condition times, startTime). */
  readonly wallClock: () => Date;
  readonly logger: Logger;
}

/** What the Node is registered with (`kubus agent` flags). */
export interface NodeConfig {
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  /** `--system-reserved cpu=…,memory=…,ephemeral-storage=…`: subtracted from capacity for allocatable. */
  readonly systemReserved: Readonly<Record<string, string>>;
  /** `--max-pods`, default 110 (Kubernetes' default). */
  readonly maxPods: number;
  /** `--node-lease-duration-seconds`, default 40. */
  readonly leaseDurationSeconds: number;
  /** `--node-lease-renew-interval`, default 10 s. */
  readonly leaseRenewIntervalMs: number;
  /** Full status at most this often unless something changed; default 5 min. */
  readonly statusReportIntervalMs: number;
  /** The address other hosts reach this node on (`--node-ip`); default: the first non-internal IPv4, else 127.0.0.1. */
  readonly nodeIp: string;
  /** Services on this node (issue 12): the proxy, the cluster DNS server and the tunnel's far end. */
  readonly services: NodeServicesConfig;
}

/** `kubus agent` flags of the node's service data path (issue 12). */
export interface NodeServicesConfig {
  /** `--pod-network`: nodes with the same name route each other's pod IPs; others are reached through the NATS tunnel. Default: the host's machine id. */
  readonly podNetwork: string;
  /** `--no-service-proxy` turns the proxy off (another proxy serves this host). */
  readonly proxy: boolean;
  /** `--nodeport-addresses`: where NodePorts listen; default [nodeIp]. */
  readonly nodePortAddresses: readonly string[];
  /** `--cluster-dns <ip[:port]>`: where this node's DNS server listens (pods are told it); null: `--no-cluster-dns`. Default `<nodeIp>:53`. */
  readonly clusterDns: { readonly address: string; readonly port: number } | null;
  /** `--cluster-domain`, default `cluster.local`. */
  readonly clusterDomain: string;
}

/** The Node part's handle: what the others need from the registered Node. */
export interface NodeHandle {
  /** `spec.podCIDR` once the control plane allocated it (checkpointed: known offline after a restart). */
  podCidr(): string | null;
  /** Resolves once the Node is registered (or immediately when restored from the checkpoint). */
  registered(): Promise<void>;
  stop(): Promise<void>;
}

/** Volumes of one pod, set up on the node. */
export interface PodVolumes {
  /** The container's `volumeMounts` as host paths (subPath resolved). */
  mountsFor(container: Container): readonly Mount[];
}

export interface VolumeManager {
  /** Prepares every volume (directories, configMap/secret/downwardAPI/token files, local-path PV directories). */
  setUp(pod: Pod, podIp: string | null): Promise<PodVolumes>;
  /** Rewrites configMap, secret, downwardAPI and token contents that changed (called periodically while the pod runs). */
  refresh(pod: Pod, podIp: string | null): Promise<void>;
  /** Removes what belongs to the pod only (emptyDir, rendered files); hostPath and PV data stay. */
  tearDown(pod: Pod): Promise<void>;
}

export interface EnvResolver {
  /** The container's environment, Kubernetes' order and precedence: service variables, envFrom, env (with $(VAR) expansion). */
  resolve(pod: Pod, container: Container, podIp: string | null, nodeIp: string): Promise<readonly { readonly name: string; readonly value: string }[]>;
}

/** Where a probe or hook runs. */
export interface ProbeTarget {
  readonly pod: Pod;
  readonly podIp: string | null;
  readonly container: Container;
  readonly containerId: string;
  /** When this container instance started (initialDelaySeconds counts from it). */
  readonly startedAtMs: number;
}

export interface ProbeTransition {
  readonly kind: 'startup' | 'liveness' | 'readiness';
  /** Healthy after `successThreshold` successes, unhealthy after `failureThreshold` failures. */
  readonly healthy: boolean;
  readonly message: string;
}

export interface Prober {
  /**
   * Runs the container's startup, liveness and readiness probes on their schedules (liveness and
   * readiness only after startup succeeded) and reports each change of a result; `stop()` when the
   * instance exits. Without a readiness probe the container counts as ready once started.
   */
  start(target: ProbeTarget, listener: (transition: ProbeTransition) => void): { stop(): void };
  /** One run of a lifecycle hook (postStart, preStop: exec, httpGet, sleep), bounded by `timeoutMs`. */
  runHook(handler: LifecycleHandler, target: ProbeTarget, timeoutMs: number): Promise<{ readonly ok: boolean; readonly message: string }>;
  /** One probe attempt (tests; the schedule uses it). */
  runOnce(probe: Probe, target: ProbeTarget): Promise<{ readonly outcome: 'success' | 'failure'; readonly message: string }>;
}

/** Hands the pod manager's status changes to the API, coalesced and bounded (queued while offline). */
export interface PodStatusSink {
  /** The latest status wins per pod; older ones not yet written are dropped. */
  set(pod: Pod, status: NonNullable<Pod['status']>): void;
  /** The agent finished terminating this pod: delete it with gracePeriodSeconds=0 (uid precondition). */
  confirmDeletion(pod: Pod): void;
}

/** The pod manager's handle, for the composition root and the rpc server. */
export interface PodManagerHandle {
  apply(update: import('./assignment/protocol.js').AssignmentUpdate): void;
  /** Pods this node runs now, by uid. */
  pods(): ReadonlyMap<string, Pod>;
  /** Stops the workers; with `drain` the pods' containers are stopped gracefully first, else they keep running. */
  stop(options: { readonly drain: boolean }): Promise<void>;
}

/** The Node object shape used across the agent. */
export type { Node, Pod, ContainerRuntime };
