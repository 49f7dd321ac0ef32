/**
 * The cloud controllers' pure decisions: which Nodes a balancer serves, what a reconcile of a
 * Service does in every state (none, ensure with or without the finalizer, host update, release
 * with or without status and finalizer writes), what instance metadata changes on a Node, how
 * addresses merge, what a NotReady Node's instance state means; and the bounded provider call.
 */
import { describe, expect, it } from 'vitest';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import {
  backoffMs, callProvider, CloudProviderError, eligibleNodes, excludeFromLoadBalancersLabel, nodeEligibilityKey, ingressSignature, lifecycleFirstStep, lifecycleVerdict,
  loadBalancerCleanupFinalizer, mergeAddresses, nodeChanges, nodeSetSignature, planService, ProviderCallTimeoutError, serviceSignature, shutdownTaint,
  toBeDeletedTaint, uninitializedTaintKey, withSpecChanges,
} from '../../actors/cloud/index.js';
import { SimulatedClock } from '../../bus/index.js';

const ready = (name: string, extra: Partial<Node> = {}, status = 'True'): Node => ({
  metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: `10.0.0.${name.length}` }], conditions: [{ type: 'Ready', status }] }, ...extra,
});

const lbService = (extra: { finalizer?: boolean; ingress?: string; type?: string; deleting?: boolean; lbClass?: string } = {}): Service => ({
  metadata: {
    name: 'web', namespace: 'ns', uid: 'u1', ...(extra.finalizer === true ? { finalizers: [loadBalancerCleanupFinalizer] } : {}),
    ...(extra.deleting === true ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
  },
  spec: { type: extra.type ?? 'LoadBalancer', ports: [{ port: 80, nodePort: 30080 }], ...(extra.lbClass !== undefined ? { loadBalancerClass: extra.lbClass } : {}) },
  ...(extra.ingress !== undefined ? { status: { loadBalancer: { ingress: [{ ip: extra.ingress }] } } } : {}),
});

describe('service decisions', () => {
  it('eligible nodes: Ready, not excluded, not being deleted, not marked by an autoscaler, sorted; cordoned ones stay', () => {
    const nodes = [
      ready('c', { spec: { unschedulable: true } }), ready('a'), ready('b', {}, 'False'), ready('d', { metadata: { name: 'd', labels: { [excludeFromLoadBalancersLabel]: '' } } }),
      ready('e', { metadata: { name: 'e', deletionTimestamp: 'x' } }), ready('f', { spec: { taints: [{ key: toBeDeletedTaint, effect: 'NoSchedule' }] } }),
    ];
    expect(eligibleNodes(nodes).map((n) => n.metadata?.name)).toEqual(['a', 'c']);
  });

  it('plans: finalizer first, ensure until the status matches, hosts when only nodes changed, nothing when all agrees', () => {
    const nodes = nodeSetSignature([ready('a')]);
    expect(planService({ service: lbService(), lastKnown: undefined, applied: undefined, nodes })).toEqual({ kind: 'ensure', addFinalizer: true });
    expect(planService({ service: lbService({ finalizer: true }), lastKnown: undefined, applied: undefined, nodes })).toEqual({ kind: 'ensure', addFinalizer: false });
    const done = lbService({ finalizer: true, ingress: '127.98.0.1' });
    const applied = { service: serviceSignature(done), nodes, ingress: ingressSignature(done.status?.loadBalancer?.ingress) };
    expect(planService({ service: done, lastKnown: undefined, applied, nodes })).toEqual({ kind: 'none' });
    expect(planService({ service: done, lastKnown: undefined, applied, nodes: nodeSetSignature([ready('a'), ready('bb')]) })).toEqual({ kind: 'updateHosts' });
    // A new term knows nothing yet: it ensures again (the provider is idempotent).
    expect(planService({ service: done, lastKnown: undefined, applied: undefined, nodes })).toEqual({ kind: 'ensure', addFinalizer: false });
    // Someone cleared the status: ensure again.
    expect(planService({ service: lbService({ finalizer: true }), lastKnown: undefined, applied, nodes })).toEqual({ kind: 'ensure', addFinalizer: false });
    // The ports changed: ensure again.
    const moved = { ...done, spec: { ...done.spec, ports: [{ port: 81, nodePort: 30081 }] } };
    expect(planService({ service: moved, lastKnown: undefined, applied, nodes })).toEqual({ kind: 'ensure', addFinalizer: false });
  });

  it('plans the release: type changed, deleting, gone while held; and nothing for Services never ours', () => {
    const nodes = '[]';
    expect(planService({ service: lbService({ type: 'ClusterIP', finalizer: true, ingress: '1.1.1.1' }), lastKnown: undefined, applied: undefined, nodes })).toEqual({ kind: 'delete', clearStatus: true, removeFinalizer: true });
    expect(planService({ service: lbService({ deleting: true, finalizer: true, ingress: '1.1.1.1' }), lastKnown: undefined, applied: undefined, nodes })).toEqual({ kind: 'delete', clearStatus: false, removeFinalizer: true });
    const applied = { service: '', nodes, ingress: '' };
    expect(planService({ service: undefined, lastKnown: lbService(), applied, nodes })).toEqual({ kind: 'delete', clearStatus: false, removeFinalizer: false });
    expect(planService({ service: undefined, lastKnown: lbService(), applied: undefined, nodes })).toEqual({ kind: 'none' });
    expect(planService({ service: lbService({ type: 'ClusterIP', ingress: '1.1.1.1' }), lastKnown: undefined, applied: undefined, nodes })).toEqual({ kind: 'none' });
    expect(planService({ service: lbService({ lbClass: 'example.com/x' }), lastKnown: undefined, applied: undefined, nodes })).toEqual({ kind: 'none' });
  });
});

describe('node updates worth a balancer pass', () => {
  it('are those that change eligibility or the internal addresses, not heartbeats', () => {
    const node = ready('n1');
    const heartbeat = { ...node, status: { ...node.status, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2026-12-03T09:00:00Z', message: 'ok' }] } };
    expect(nodeEligibilityKey(heartbeat)).toBe(nodeEligibilityKey(node));
    expect(nodeEligibilityKey(ready('n1', {}, 'False'))).not.toBe(nodeEligibilityKey(node));
    expect(nodeEligibilityKey({ ...node, metadata: { name: 'n1', labels: { [excludeFromLoadBalancersLabel]: '' } } })).not.toBe(nodeEligibilityKey(node));
    expect(nodeEligibilityKey({ ...node, status: { ...node.status, addresses: [{ type: 'InternalIP', address: '10.9.9.9' }] } })).not.toBe(nodeEligibilityKey(node));
  });
});

describe('node decisions', () => {
  const metadata = { providerID: 'fake://n1', instanceType: 't', zone: 'z', region: 'r', nodeAddresses: [{ type: 'InternalIP', address: '10.1.1.1' }] };

  it('metadata fills providerID only when empty, sets differing labels, and removes the uninitialised taint', () => {
    const node: Node = { metadata: { name: 'n1', labels: { [`topology.kubernetes.io/zone`]: 'z' } }, spec: { taints: [{ key: uninitializedTaintKey, effect: 'NoSchedule' }, { key: 'other', effect: 'NoSchedule' }] } };
    const changes = nodeChanges(node, metadata);
    expect(changes).toEqual({ providerID: 'fake://n1', labels: { 'topology.kubernetes.io/region': 'r', 'node.kubernetes.io/instance-type': 't' }, addresses: [{ type: 'InternalIP', address: '10.1.1.1' }], removeUninitializedTaint: true });
    const next = withSpecChanges(node, changes);
    expect(next.spec?.taints).toEqual([{ key: 'other', effect: 'NoSchedule' }]);
    expect(nodeChanges({ ...node, spec: { providerID: 'other://x' } }, metadata).providerID).toBeUndefined();
    expect(nodeChanges(node, { ...metadata, zone: '', region: '', instanceType: '' }).labels).toEqual({});
  });

  it('addresses: the agent\'s InternalIP the cloud does not list stays first; no cloud addresses keeps the Node\'s', () => {
    const current = [{ type: 'InternalIP', address: '127.32.0.1' }, { type: 'Hostname', address: 'h' }];
    expect(mergeAddresses(current, [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'h' }])).toEqual([
      { type: 'InternalIP', address: '127.32.0.1' }, { type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'h' },
    ]);
    expect(mergeAddresses(current, [{ type: 'InternalIP', address: '127.32.0.1' }])).toEqual([{ type: 'InternalIP', address: '127.32.0.1' }]);
    expect(mergeAddresses(current, [])).toEqual(current);
  });

  it('lifecycle: Ready nodes are left alone (shutdown taint removed), NotReady ones asked; shut down is tainted and kept, gone is deleted', () => {
    expect(lifecycleFirstStep(ready('a'))).toBe('none');
    expect(lifecycleFirstStep(ready('a', { spec: { taints: [shutdownTaint] } }))).toBe('removeShutdownTaint');
    expect(lifecycleFirstStep(ready('a', {}, 'Unknown'))).toBe('askCloud');
    const notReady = ready('a', {}, 'False');
    expect(lifecycleVerdict(notReady, { shutdown: true })).toBe('taintShutdown');
    expect(lifecycleVerdict({ ...notReady, spec: { taints: [shutdownTaint] } }, { shutdown: true })).toBe('keep');
    expect(lifecycleVerdict(notReady, { shutdown: false })).toBe('askExists');
    expect(lifecycleVerdict(notReady, { shutdown: false, exists: true })).toBe('keep');
    expect(lifecycleVerdict(notReady, { shutdown: false, exists: false })).toBe('delete');
  });
});

describe('bounded provider calls', () => {
  it('gives up at timeoutMs (aborting the call), wraps foreign errors, passes values through', async () => {
    const clock = new SimulatedClock();
    let aborted = false;
    const hung = callProvider({ provider: 'p', operation: 'op', timeoutMs: 1_000, clock }, (o) => new Promise(() => o.signal?.addEventListener('abort', () => void (aborted = true))));
    clock.advance(1_000);
    await expect(hung).rejects.toBeInstanceOf(ProviderCallTimeoutError);
    expect(aborted).toBe(true);
    const foreign = await callProvider({ provider: 'p', operation: 'op', timeoutMs: 1_000, clock }, async () => { throw new TypeError('boom'); }).catch((e: unknown) => e);
    expect(foreign).toBeInstanceOf(CloudProviderError);
    expect((foreign as CloudProviderError).retryable).toBe(true);
    expect(await callProvider({ provider: 'p', operation: 'op', timeoutMs: 1_000, clock }, async (o) => o.timeoutMs)).toBe(1_000);
  });

  it('backs off from the base, doubling, to the cap', () => {
    expect([1, 2, 3, 10, 100].map((n) => backoffMs(n, 500, 30_000))).toEqual([500, 1_000, 2_000, 30_000, 30_000]);
  });
});
