/** The Node object as registered: labels, capacity − reserved, nodeInfo, conditions, takeover patch; and when status is written. */
import type { Node } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import type { HostFacts } from '../../../nodeagent/node/host.js';
import { decidePressures } from '../../../nodeagent/node/host-readings.js';
import {
  addressesToReport,
  allocatableOf, capacityOf, newNode, nodeConditions, nodeInfoOf, nodeStatusOf, readyCondition, resourceLimitsAnnotation, takeoverPatch, type NodeFacts,
} from '../../../nodeagent/node/node-object.js';
import { decideStatusReport, statusSignature } from '../../../nodeagent/node/status-decision.js';
import { nextLeaseDelayMs } from '../../../nodeagent/node/node-lease.js';
import type { RuntimeStatus } from '../../../nodeagent/runtime/types.js';

const host: HostFacts = {
  hostname: 'host-a', cpuCores: 4, memoryBytes: 8 * 2 ** 30, diskBytes: 100 * 2 ** 30, machineID: 'm1', bootID: 'b1', systemUUID: '',
  osImage: 'Ubuntu 24.04 LTS', kernelVersion: '6.8.0', architecture: 'amd64', operatingSystem: 'linux',
};
const facts: NodeFacts = {
  nodeName: 'w1', host, nodeIp: '127.0.0.1', runtime: { name: 'process', version: '0.1.0' }, kubeletVersion: 'v1.32.0-kubus',
  maxPods: 110, systemReserved: { cpu: '500m', memory: '1Gi' }, labels: { tier: 'edge' }, taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }],
};
const ready: RuntimeStatus = { runtimeReady: true, networkReady: true, resourceLimitsEnforced: true, message: null };
const healthy = decidePressures({ memoryTotalBytes: 8 * 2 ** 30, memoryAvailableBytes: 4 * 2 ** 30, diskTotalBytes: 1e11, diskAvailableBytes: 5e10, processes: 300, pidMax: 32768 });

describe('the Node object', () => {
  it('capacity from the host, allocatable minus --system-reserved', () => {
    const capacity = capacityOf(facts);
    expect(capacity).toEqual({ cpu: '4', memory: `${8 * 2 ** 20}Ki`, 'ephemeral-storage': `${100 * 2 ** 20}Ki`, pods: '110' });
    expect(allocatableOf(capacity, facts.systemReserved)).toEqual({ cpu: '3500m', memory: '7Gi', 'ephemeral-storage': `${100 * 2 ** 20}Ki`, pods: '110' });
    // More reserved than there is: zero, never negative.
    expect(allocatableOf({ cpu: '1' }, { cpu: '2' })).toEqual({ cpu: '0' });
  });

  it('registers with the well-known labels, --labels, --taints and the limits annotation', () => {
    const node = newNode(facts, false);
    expect(node.metadata?.labels).toEqual({ 'kubernetes.io/hostname': 'w1', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', tier: 'edge' });
    expect(node.metadata?.annotations).toEqual({ [resourceLimitsAnnotation]: 'false' });
    expect(node.spec?.taints).toEqual(facts.taints);
  });

  it('nodeInfo names the runtime as <name>://<version>', () => {
    expect(nodeInfoOf(facts)).toMatchObject({ containerRuntimeVersion: 'process://0.1.0', kubeletVersion: 'v1.32.0-kubus', osImage: 'Ubuntu 24.04 LTS', architecture: 'amd64', machineID: 'm1', bootID: 'b1' });
  });

  it('Ready follows the runtime and says when limits are not enforced', () => {
    expect(readyCondition(ready)).toMatchObject({ status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' });
    expect(readyCondition({ ...ready, resourceLimitsEnforced: false }).message).toBe('kubelet is posting ready status; resource limits are not enforced on this host (cgroups not writable)');
    expect(readyCondition({ ...ready, networkReady: false, message: 'no pod CIDR yet' })).toMatchObject({ status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready: no pod CIDR yet' });
    expect(readyCondition(null).status).toBe('False');
  });

  it('conditions keep their transition time while the status holds and move it on a flip', () => {
    const first = nodeConditions(undefined, ready, healthy, '2026-01-01T00:00:00Z');
    expect(first.map((c) => [c.type, c.status])).toEqual([['MemoryPressure', 'False'], ['DiskPressure', 'False'], ['PIDPressure', 'False'], ['Ready', 'True']]);
    const same = nodeConditions(first, ready, healthy, '2026-01-01T00:01:00Z');
    expect(same.find((c) => c.type === 'Ready')).toMatchObject({ lastTransitionTime: '2026-01-01T00:00:00Z', lastHeartbeatTime: '2026-01-01T00:01:00Z' });
    const down = nodeConditions(same, { ...ready, runtimeReady: false }, healthy, '2026-01-01T00:02:00Z');
    expect(down.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', lastTransitionTime: '2026-01-01T00:02:00Z' });
  });

  it('a takeover patches only our labels and annotation, and reports taints it may not change', () => {
    const existing: Node = { metadata: { name: 'w1', labels: { 'kubernetes.io/hostname': 'w1', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', tier: 'core', team: 'ops' }, annotations: { [resourceLimitsAnnotation]: 'false', other: 'x' } }, spec: {} };
    expect(takeoverPatch(existing, facts, false)).toEqual({ patch: { metadata: { labels: { tier: 'edge' } } }, taintsDiffer: true });
    const same: Node = { ...existing, metadata: { ...existing.metadata, labels: { ...existing.metadata?.labels, tier: 'edge' } }, spec: { taints: [...facts.taints] } };
    expect(takeoverPatch(same, facts, false)).toEqual({ patch: null, taintsDiffer: false });
    expect(takeoverPatch(same, facts, true).patch).toEqual({ metadata: { annotations: { [resourceLimitsAnnotation]: 'true' } } });
  });
});

describe('the addresses the agent reports', () => {
  const own = [{ type: 'InternalIP', address: '127.32.0.1' }, { type: 'Hostname', address: 'n1' }];
  const cloud = [{ type: 'InternalIP', address: '10.0.0.7' }, { type: 'ExternalIP', address: '203.0.113.7' }];
  it('are its own until a cloud provider initialised the Node; then the cloud\'s, so the two never flap', () => {
    expect(addressesToReport(null, own)).toEqual(own);
    expect(addressesToReport({ spec: {}, status: { addresses: cloud } }, own)).toEqual(own);
    expect(addressesToReport({ spec: { providerID: 'sim://n1' }, status: { addresses: cloud } }, own)).toEqual(cloud);
    expect(addressesToReport({ spec: { providerID: 'local://n1' }, status: {} }, own)).toEqual(own);
  });
});

describe('when the full status is written', () => {
  const status = nodeStatusOf(facts, nodeConditions(undefined, ready, healthy, '2026-01-01T00:00:00Z'));
  const signature = statusSignature(status);
  const interval = 300_000;

  it('at once the first time, then only when something changed or the interval passed', () => {
    expect(decideStatusReport(null, signature, 0, interval)).toEqual({ write: true, why: 'first' });
    const last = { signature, atMs: 1_000 };
    expect(decideStatusReport(last, signature, 1_000 + interval - 1, interval)).toEqual({ write: false, nextDueMs: 1_000 + interval });
    expect(decideStatusReport(last, signature, 1_000 + interval, interval)).toEqual({ write: true, why: 'interval' });
  });

  it('heartbeat times and messages alone are no change; a condition flip, capacity or address is', () => {
    const later = nodeStatusOf(facts, nodeConditions(status.conditions, ready, decidePressures({ memoryTotalBytes: 8 * 2 ** 30, memoryAvailableBytes: 3 * 2 ** 30, diskTotalBytes: 1e11, diskAvailableBytes: 4e10, processes: 500, pidMax: 32768 }), '2026-01-01T00:00:10Z'));
    expect(statusSignature(later)).toBe(signature);
    const notReady = nodeStatusOf(facts, nodeConditions(status.conditions, { ...ready, runtimeReady: false }, healthy, '2026-01-01T00:00:10Z'));
    expect(statusSignature(notReady)).not.toBe(signature);
    expect(statusSignature(nodeStatusOf({ ...facts, maxPods: 50 }, status.conditions ?? []))).not.toBe(signature);
    expect(statusSignature(nodeStatusOf({ ...facts, nodeIp: '10.0.0.2' }, status.conditions ?? []))).not.toBe(signature);
  });
});

describe('Lease renew timing', () => {
  it('the interval after a success; after failures 200 ms doubling, capped at 7 s and at the interval', () => {
    expect([0, 1, 2, 3, 6, 10].map((failures) => nextLeaseDelayMs(failures, 10_000))).toEqual([10_000, 200, 400, 800, 6_400, 7_000]);
    expect(nextLeaseDelayMs(10, 1_000)).toBe(1_000);
  });
});
