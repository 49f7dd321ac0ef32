/**
 * Node health as the node lifecycle controller judges it (Kubernetes' `tryUpdateNodeHealth`),
 * pure. A Node is alive while this controller keeps seeing signs of life: its Lease in
 * `kube-node-lease` renewed, or a new heartbeat on its Ready condition. After the grace period
 * without one, its Ready, MemoryPressure, DiskPressure and PIDPressure conditions become Unknown.
 *
 * Decision: every time here is this controller's own monotonic clock at the moment it OBSERVED
 * a change (a different renewTime, a different lastHeartbeatTime), never the timestamps the
 * node wrote compared with ours: a node whose clock is off by minutes is judged exactly like
 * one whose clock is right, as in Kubernetes.
 */
import type { NodeCondition } from 'kubernetes-types/core/v1.js';
import { getCondition } from '../../objects/index.js';
import type { NodeObject } from './object-types.js';

export interface NodeHealth {
  /** Monotonic ms of the last sign of life this controller saw. */
  readonly probeMs: number;
  /** The Ready condition's `lastHeartbeatTime` and `lastTransitionTime` as last seen (strings compared, never parsed). */
  readonly readyHeartbeat: string | undefined;
  readonly readyTransition: string | undefined;
  readonly hasReady: boolean;
  /** The Lease's `spec.renewTime` as last seen. */
  readonly leaseRenewTime: string | undefined;
}

/** The conditions that go Unknown when the kubelet stops posting (NetworkUnavailable is the network's, not the kubelet's). */
export const kubeletConditionTypes = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'] as const;

export interface HealthSettings {
  /** `--node-monitor-grace-period`: silence after which a Node is Unknown. */
  readonly gracePeriodMs: number;
  /** `--node-startup-grace-period`: the same for a Node that never posted a Ready condition. */
  readonly startupGracePeriodMs: number;
}

/** Folds what the Node's status shows into its health record. */
export function observeNodeStatus(previous: NodeHealth | undefined, node: Pick<NodeObject, 'status'>, nowMs: number): NodeHealth {
  const ready = getCondition(node.status?.conditions, 'Ready');
  const seen = { readyHeartbeat: ready?.lastHeartbeatTime, readyTransition: ready?.lastTransitionTime, hasReady: ready !== undefined };
  if (previous === undefined) return { probeMs: nowMs, leaseRenewTime: undefined, ...seen };
  const appeared = !previous.hasReady && seen.hasReady;
  const removed = previous.hasReady && !seen.hasReady;
  const beat = previous.hasReady && seen.hasReady && previous.readyHeartbeat !== seen.readyHeartbeat;
  if (appeared || removed || beat) return { ...previous, ...seen, probeMs: nowMs };
  return { ...previous, ...seen };
}

/** Folds a Lease renewal into the health record: a renewTime different from the last one seen is a sign of life. */
export function observeLease(previous: NodeHealth | undefined, renewTime: string | undefined, nowMs: number): NodeHealth {
  if (previous === undefined) return { probeMs: nowMs, readyHeartbeat: undefined, readyTransition: undefined, hasReady: false, leaseRenewTime: renewTime };
  if (renewTime === undefined || renewTime === previous.leaseRenewTime) return previous;
  return { ...previous, leaseRenewTime: renewTime, probeMs: nowMs };
}

export function gracePeriodMs(health: NodeHealth, settings: HealthSettings): number {
  return health.hasReady ? settings.gracePeriodMs : settings.startupGracePeriodMs;
}

/** Monotonic ms at which the Node's silence exceeds its grace period. */
export function staleAtMs(health: NodeHealth, settings: HealthSettings): number {
  return health.probeMs + gracePeriodMs(health, settings);
}

/**
 * The Node's conditions once it has been silent past its grace period: each kubelet condition
 * Unknown (`NodeStatusUnknown`, or `NodeStatusNeverUpdated` for one never posted), the heartbeat
 * kept, the transition at `nowIso`. Undefined when nothing changes (not stale, or already Unknown).
 */
export function staleConditions(node: Pick<NodeObject, 'status' | 'metadata'>, health: NodeHealth, args: { nowMs: number; nowIso: string; settings: HealthSettings }): NodeCondition[] | undefined {
  if (args.nowMs <= staleAtMs(health, args.settings)) return undefined;
  const conditions = [...(node.status?.conditions ?? [])];
  let changed = false;
  for (const type of kubeletConditionTypes) {
    const index = conditions.findIndex((c) => c.type === type);
    const current = index < 0 ? undefined : conditions[index];
    if (current === undefined) {
      conditions.push({
        type, status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.',
        ...(node.metadata.creationTimestamp !== undefined ? { lastHeartbeatTime: node.metadata.creationTimestamp } : {}),
        lastTransitionTime: args.nowIso,
      });
      changed = true;
    } else if (current.status !== 'Unknown') {
      conditions[index] = { ...current, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: args.nowIso };
      changed = true;
    }
  }
  return changed ? conditions : undefined;
}

/** The Node's Ready status: True, False, Unknown, or undefined when it has no Ready condition. */
export function readyStatus(node: Pick<NodeObject, 'status'>): 'True' | 'False' | 'Unknown' | undefined {
  const status = getCondition(node.status?.conditions, 'Ready')?.status;
  return status === 'True' || status === 'False' || status === 'Unknown' ? status : status === undefined ? undefined : 'Unknown';
}
