/**
 * The node controllers' decisions, pure and exact: node health judged by what this controller
 * observed (never by the node's clock), the Unknown conditions Kubernetes writes, the taints that
 * follow conditions, zone disruption states and rates, the zone's rate limiter, NoExecute
 * eviction timing from the taint's timeAdded, and pod GC's orphan and terminated-pod choices.
 */
import { describe, expect, it } from 'vitest';
import type { Taint } from 'kubernetes-types/core/v1.js';
import {
  ZoneTaintQueue, computeZoneState, tolerationStartMs, desiredNoScheduleTaints, durationOptionMs, evictionDecision, nextTaints, nodeLifecycleSettings, noExecuteIntent,
  observeLease, observeNodeStatus, planDisruption, staleConditions, zoneEvictionRate, zoneKey, InvalidControllerOptionError,
  type NodeObject,
} from '../../actors/controllers/nodelifecycle/index.js';
import { orphanDecision, terminatedToDelete } from '../../actors/controllers/podgc/index.js';

const settings = { gracePeriodMs: 40_000, startupGracePeriodMs: 60_000 };

function node(conditions: { type: string; status: string; lastHeartbeatTime?: string; lastTransitionTime?: string }[], extra: Partial<NodeObject> = {}): NodeObject {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', creationTimestamp: '2026-01-01T00:00:00Z' }, status: { conditions }, ...extra } as NodeObject;
}

describe('node health', () => {
  it('a lease renewal or a new Ready heartbeat is a sign of life at the time observed; the same values again are not', () => {
    const ready = node([{ type: 'Ready', status: 'True', lastHeartbeatTime: '2099-01-01T00:00:00Z' }]);
    let health = observeNodeStatus(undefined, ready, 1_000);
    expect(health.probeMs).toBe(1_000);
    health = observeLease(health, '2026-01-01T00:00:01.000000Z', 5_000);
    expect(health.probeMs).toBe(5_000);
    health = observeLease(health, '2026-01-01T00:00:01.000000Z', 9_000);
    expect(health.probeMs).toBe(5_000);
    health = observeNodeStatus(health, ready, 9_000);
    expect(health.probeMs).toBe(5_000);
    // A heartbeat "in the past" by the node's clock still counts: only the change matters.
    health = observeNodeStatus(health, node([{ type: 'Ready', status: 'True', lastHeartbeatTime: '1999-01-01T00:00:00Z' }]), 12_000);
    expect(health.probeMs).toBe(12_000);
  });

  it('after the grace period: Ready, MemoryPressure, DiskPressure, PIDPressure Unknown as Kubernetes writes them; NetworkUnavailable untouched', () => {
    const n = node([
      { type: 'Ready', status: 'True', lastHeartbeatTime: '2026-01-01T00:01:00Z', lastTransitionTime: '2026-01-01T00:00:10Z' },
      { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: '2026-01-01T00:01:00Z' },
      { type: 'NetworkUnavailable', status: 'False' },
    ]);
    const health = observeNodeStatus(undefined, n, 0);
    expect(staleConditions(n, health, { nowMs: 40_000, nowIso: 'T1', settings })).toBeUndefined();
    const conditions = staleConditions(n, health, { nowMs: 40_001, nowIso: 'T1', settings });
    expect(conditions).toEqual([
      { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastHeartbeatTime: '2026-01-01T00:01:00Z', lastTransitionTime: 'T1' },
      { type: 'MemoryPressure', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastHeartbeatTime: '2026-01-01T00:01:00Z', lastTransitionTime: 'T1' },
      { type: 'NetworkUnavailable', status: 'False' },
      { type: 'DiskPressure', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: 'T1' },
      { type: 'PIDPressure', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: 'T1' },
    ]);
    // Written once: a Node already Unknown changes nothing more.
    expect(staleConditions(node(conditions ?? []), health, { nowMs: 90_000, nowIso: 'T2', settings })).toBeUndefined();
  });

  it('our own Unknown write keeps the heartbeat, so observing it restarts no grace period', () => {
    const n = node([{ type: 'Ready', status: 'True', lastHeartbeatTime: 'H1', lastTransitionTime: 'A' }]);
    const health = observeNodeStatus(undefined, n, 0);
    const written = node(staleConditions(n, health, { nowMs: 50_000, nowIso: 'B', settings }) ?? []);
    expect(observeNodeStatus(health, written, 50_000).probeMs).toBe(0);
  });

  it('a Node that never posted Ready gets the startup grace period', () => {
    const n = node([]);
    const health = observeNodeStatus(undefined, n, 0);
    expect(staleConditions(n, health, { nowMs: 59_000, nowIso: 'T', settings })).toBeUndefined();
    expect(staleConditions(n, health, { nowMs: 60_001, nowIso: 'T', settings })?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'Unknown', 'NodeStatusNeverUpdated'], ['MemoryPressure', 'Unknown', 'NodeStatusNeverUpdated'],
      ['DiskPressure', 'Unknown', 'NodeStatusNeverUpdated'], ['PIDPressure', 'Unknown', 'NodeStatusNeverUpdated'],
    ]);
  });
});

describe('node taints', () => {
  const unreachableNoExecute: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: 'T0' };
  const notReadyNoExecute: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: 'T0' };

  it('NoSchedule taints follow the conditions and spec.unschedulable', () => {
    expect(desiredNoScheduleTaints(node([{ type: 'Ready', status: 'Unknown' }, { type: 'DiskPressure', status: 'True' }], { spec: { unschedulable: true } }))).toEqual([
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
    ]);
    expect(desiredNoScheduleTaints(node([{ type: 'Ready', status: 'False' }]))).toEqual([{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
    expect(desiredNoScheduleTaints(node([{ type: 'Ready', status: 'True' }, { type: 'MemoryPressure', status: 'False' }]))).toEqual([]);
  });

  it('NoExecute intent: Ready removes, a swap is immediate, a new taint goes through the zone limiter', () => {
    expect(noExecuteIntent('True', [unreachableNoExecute])).toBe('remove');
    expect(noExecuteIntent('False', [unreachableNoExecute])).toBe('notReady');
    expect(noExecuteIntent('Unknown', [notReadyNoExecute])).toBe('unreachable');
    expect(noExecuteIntent('Unknown', [unreachableNoExecute])).toBe('keep');
    expect(noExecuteIntent('Unknown', [])).toBe('enqueue');
    expect(noExecuteIntent('False', [])).toBe('enqueue');
    expect(noExecuteIntent(undefined, [])).toBe('keep');
  });

  it('nextTaints touches only the managed taints, keeps timeAdded of one already set, and says when nothing changes', () => {
    const user: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    const userNoExecute: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'PreferNoSchedule' };
    const down = nextTaints([user, userNoExecute], { noSchedule: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }], noExecute: 'unreachable', nowIso: 'T1' });
    expect(down).toEqual([user, userNoExecute, { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: 'T1' }]);
    expect(nextTaints(down, { noSchedule: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }], noExecute: 'unreachable', nowIso: 'T2' })).toBeUndefined();
    expect(nextTaints(down, { noSchedule: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }], noExecute: 'notReady', nowIso: 'T3' })).toEqual([
      user, userNoExecute, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: 'T3' },
    ]);
    expect(nextTaints(down, { noSchedule: [], noExecute: 'remove', nowIso: 'T4' })).toEqual([user, userNoExecute]);
    expect(nextTaints(down, { noSchedule: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }], noExecute: 'keep', nowIso: 'T4' })).toBeUndefined();
  });
});

describe('zones', () => {
  const rates = { nodeEvictionRate: 0.1, secondaryNodeEvictionRate: 0.01, unhealthyZoneThreshold: 0.55, largeClusterSizeThreshold: 50 };
  const T = 'True';
  const F = 'False';
  const U = 'Unknown';

  it('zone key from the region and zone labels (beta labels as fallback)', () => {
    expect(zoneKey({ 'topology.kubernetes.io/zone': 'a', 'topology.kubernetes.io/region': 'r' })).toBe('r:\u0000:a');
    expect(zoneKey({ 'failure-domain.beta.kubernetes.io/zone': 'b' })).toBe(':\u0000:b');
    expect(zoneKey({})).toBe('');
  });

  it('zone state: Normal, PartialDisruption (> 2 not ready and at least the threshold), FullDisruption', () => {
    expect(computeZoneState([T, T, F], 0.55)).toEqual({ notReady: 1, state: 'Normal' });
    expect(computeZoneState([F, U, T, T], 0.55)).toEqual({ notReady: 2, state: 'Normal' });
    expect(computeZoneState([F, U, undefined, T], 0.55)).toEqual({ notReady: 3, state: 'PartialDisruption' });
    expect(computeZoneState([F, F, F, T, T, T], 0.55)).toEqual({ notReady: 3, state: 'Normal' });
    expect(computeZoneState([F, F], 0.55)).toEqual({ notReady: 2, state: 'FullDisruption' });
    expect(computeZoneState([], 0.55)).toEqual({ notReady: 0, state: 'Normal' });
  });

  it('rates: normal 0.1/s; partial 0.01/s only above the large-cluster threshold, else 0', () => {
    expect(zoneEvictionRate('Normal', 3, rates)).toBe(0.1);
    expect(zoneEvictionRate('PartialDisruption', 50, rates)).toBe(0);
    expect(zoneEvictionRate('PartialDisruption', 51, rates)).toBe(0.01);
    expect(zoneEvictionRate('FullDisruption', 3, rates)).toBe(0.1);
  });

  it('one zone fully down while another is fine: that zone is tainted at the normal rate', () => {
    const plan = planDisruption(new Map(), new Map([['a', [F, F, F]], ['b', [T, T, T]]]), rates);
    expect([...plan.zoneStates]).toEqual([['a', 'FullDisruption'], ['b', 'Normal']]);
    expect([...plan.rates]).toEqual([['a', 0.1], ['b', 0.1]]);
    expect([plan.allFullyDisrupted, plan.enteringFullDisruption, plan.exitingFullDisruption]).toEqual([false, false, false]);
  });

  it('every zone down: no eviction at all, entered once; leaving it restarts grace periods', () => {
    const down = new Map([['a', [F, U]], ['b', [U]]]);
    const enter = planDisruption(new Map([['a', 'Normal'], ['b', 'Normal']]), down, rates);
    expect([enter.allFullyDisrupted, enter.enteringFullDisruption, enter.exitingFullDisruption]).toEqual([true, true, false]);
    expect([...enter.rates.values()]).toEqual([0, 0]);
    const stay = planDisruption(enter.zoneStates, down, rates);
    expect([stay.allFullyDisrupted, stay.enteringFullDisruption, stay.exitingFullDisruption]).toEqual([true, false, false]);
    const leave = planDisruption(stay.zoneStates, new Map([['a', [T, U]], ['b', [U]]]), rates);
    expect([leave.allFullyDisrupted, leave.enteringFullDisruption, leave.exitingFullDisruption]).toEqual([false, false, true]);
    expect([...leave.rates]).toEqual([['a', 0.1], ['b', 0.1]]);
  });

  it('a first pass with every node down enters full disruption (nothing was known before)', () => {
    const plan = planDisruption(new Map(), new Map([['', [U, U, U]]]), rates);
    expect([plan.allFullyDisrupted, plan.enteringFullDisruption]).toEqual([true, true]);
  });
});

describe('ZoneTaintQueue', () => {
  it('lets one node through at once, then one per 1/rate seconds, in queue order', () => {
    const queue = new ZoneTaintQueue(0.1, 0);
    for (const n of ['a', 'b', 'c']) queue.add(n);
    expect(queue.take(0)).toEqual(['a']);
    expect(queue.nextInMs(0)).toBe(10_000);
    expect(queue.take(9_999)).toEqual([]);
    expect(queue.take(10_000)).toEqual(['b']);
    expect(queue.take(60_000)).toEqual(['c']);
    expect(queue.nextInMs(60_000)).toBeUndefined();
  });
  it('rate 0 lets nothing through; a new rate starts empty if the old bucket was', () => {
    const queue = new ZoneTaintQueue(0, 0);
    queue.add('a');
    expect(queue.take(1_000_000)).toEqual([]);
    expect(queue.nextInMs(1_000_000)).toBeUndefined();
    queue.setRate(0.1, 1_000_000);
    expect(queue.take(1_000_000)).toEqual([]);
    expect(queue.take(1_010_000)).toEqual(['a']);
  });
});

describe('NoExecute eviction', () => {
  const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' };
  const notReady: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:10Z' };
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const startMs = (t: Taint): number => Date.parse(t.timeAdded ?? '');

  it('untolerated: evicted at once', () => {
    expect(evictionDecision([], [unreachable], { nowMs: t0, startMs })).toEqual({ kind: 'evict', reason: 'untolerated' });
    expect(evictionDecision([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }], [unreachable, notReady], { nowMs: t0, startMs }))
      .toEqual({ kind: 'evict', reason: 'untolerated' });
  });
  it('tolerationSeconds counts from the taint\'s timeAdded', () => {
    const tolerations = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }];
    expect(evictionDecision(tolerations, [unreachable], { nowMs: t0 + 500, startMs })).toEqual({ kind: 'wait', ms: 1_500 });
    expect(evictionDecision(tolerations, [unreachable], { nowMs: t0 + 2_000, startMs })).toEqual({ kind: 'evict', reason: 'tolerationExpired' });
  });
  it('the first toleration to run out decides; tolerated without seconds stays; no NoExecute taint stays', () => {
    const tolerations = [
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 },
    ];
    expect(evictionDecision(tolerations, [unreachable, notReady], { nowMs: t0, startMs })).toEqual({ kind: 'wait', ms: 15_000 });
    expect(evictionDecision([{ operator: 'Exists' }], [unreachable, notReady], { nowMs: t0 + 10 ** 9, startMs })).toEqual({ kind: 'stay' });
    expect(evictionDecision([], [{ key: 'x', effect: 'NoSchedule' }], { nowMs: t0, startMs })).toEqual({ kind: 'stay' });
  });
});

describe('toleration start', () => {
  const at = (iso: string): number => Date.parse(iso);
  const taint = (timeAdded?: string): Taint => ({ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', ...(timeAdded !== undefined ? { timeAdded } : {}) });

  it('timeAdded (second precision) bounded by our first sight: never before the true moment, at most a second after', () => {
    // Set at 10.400 s, written as 10 s, seen by us at 10.450 s: counts from 10.450 s.
    expect(tolerationStartMs(taint('2026-01-01T00:00:10Z'), at('2026-01-01T00:00:10.450Z'))).toBe(at('2026-01-01T00:00:10.450Z'));
    // A new leader sees it a minute later: the whole toleration is not granted again.
    expect(tolerationStartMs(taint('2026-01-01T00:00:10Z'), at('2026-01-01T00:01:10Z'))).toBe(at('2026-01-01T00:00:10.999Z'));
    // Another member's clock ahead of ours: timeAdded wins.
    expect(tolerationStartMs(taint('2026-01-01T00:00:10Z'), at('2026-01-01T00:00:09Z'))).toBe(at('2026-01-01T00:00:10Z'));
    expect(tolerationStartMs(taint('2026-01-01T00:00:10Z'), undefined)).toBe(at('2026-01-01T00:00:10.999Z'));
    expect(tolerationStartMs(taint(), at('2026-01-01T00:00:05Z'))).toBe(at('2026-01-01T00:00:05Z'));
    expect(tolerationStartMs(taint(), undefined)).toBeUndefined();
  });
});

describe('pod GC', () => {
  it('orphans: a seen deletion goes at once, an unknown node after the quarantine, a known node never', () => {
    const base = { quarantineStartMs: 1_000, quarantineMs: 40_000 };
    expect(orphanDecision({ ...base, nodeKnown: true, nodeDeletionSeen: false, nowMs: 99_000 })).toEqual({ kind: 'keep' });
    expect(orphanDecision({ ...base, nodeKnown: false, nodeDeletionSeen: true, nowMs: 1_000 })).toEqual({ kind: 'delete' });
    expect(orphanDecision({ ...base, nodeKnown: false, nodeDeletionSeen: false, nowMs: 11_000 })).toEqual({ kind: 'wait', ms: 30_000 });
    expect(orphanDecision({ ...base, nodeKnown: false, nodeDeletionSeen: false, nowMs: 41_000 })).toEqual({ kind: 'delete' });
  });
  it('terminated pods beyond the threshold: evicted first, then oldest, bounded per pass; 0 turns it off', () => {
    const pod = (name: string, phase: string, created: string, reason?: string) => ({ metadata: { name, namespace: 'd', creationTimestamp: created }, status: { phase, ...(reason !== undefined ? { reason } : {}) } });
    const pods = [pod('a', 'Succeeded', '2026-01-03'), pod('b', 'Failed', '2026-01-01'), pod('c', 'Running', '2025-01-01'), pod('d', 'Failed', '2026-01-05', 'Evicted'), pod('e', 'Succeeded', '2026-01-02')];
    expect(terminatedToDelete(pods, 2, 100).map((p) => p.metadata.name)).toEqual(['d', 'b']);
    expect(terminatedToDelete(pods, 1, 2).map((p) => p.metadata.name)).toEqual(['d', 'b']);
    expect(terminatedToDelete(pods, 4, 100)).toEqual([]);
    expect(terminatedToDelete(pods, 0, 100)).toEqual([]);
  });
});

describe('settings', () => {
  it('Kubernetes defaults; durations parsed by the runtime or in Go syntax; bad values name the flag', () => {
    expect(nodeLifecycleSettings({})).toEqual({
      gracePeriodMs: 40_000, startupGracePeriodMs: 60_000, monitorPeriodMs: 5_000,
      nodeEvictionRate: 0.1, secondaryNodeEvictionRate: 0.01, unhealthyZoneThreshold: 0.55, largeClusterSizeThreshold: 50,
    });
    expect(nodeLifecycleSettings({ nodeMonitorGracePeriod: '3s', nodeMonitorGracePeriodMs: 3_000, nodeMonitorPeriod: '1m30s' }).gracePeriodMs).toBe(3_000);
    expect(nodeLifecycleSettings({ nodeMonitorPeriod: '1m30s' }).monitorPeriodMs).toBe(90_000);
    expect(durationOptionMs({ x: '250ms' }, 'x', 1)).toBe(250);
    expect(() => nodeLifecycleSettings({ nodeMonitorGracePeriod: 'soon' })).toThrow(InvalidControllerOptionError);
    expect(() => nodeLifecycleSettings({ unhealthyZoneThreshold: 2 })).toThrow(/--unhealthy-zone-threshold/);
  });
});
