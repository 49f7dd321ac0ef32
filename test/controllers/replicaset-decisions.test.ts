/**
 * The ReplicaSet controller's pure decisions, with exact cases: the diff capped at a burst, slow
 * start batches, Kubernetes' deletion ranking (each rule decides alone), pods from the template,
 * the status counts and the ReplicaFailure condition, and expectations with their TTL.
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import { SimulatedClock } from '../../bus/clock.js';
import {
  Expectations, compareForDeletion, podFromTemplate, podsToDelete, replicaDiff, replicaSetStatus, slowStartBatches, statusChanged,
} from '../../actors/controllers/replicaset/index.js';

function pod(name: string, options: { node?: string; phase?: string; ready?: boolean; readySince?: string; created?: string; restarts?: number; cost?: number; labels?: Record<string, string> } = {}): Pod {
  return {
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: options.created ?? '2026-01-01T00:00:00Z',
      labels: options.labels ?? { app: 'web' },
      ...(options.cost !== undefined ? { annotations: { 'controller.kubernetes.io/pod-deletion-cost': String(options.cost) } } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'nginx' }], ...(options.node !== undefined ? { nodeName: options.node } : {}) },
    status: {
      phase: options.phase ?? 'Running',
      conditions: [{ type: 'Ready', status: options.ready === false ? 'False' : 'True', lastTransitionTime: options.readySince ?? '2026-01-01T00:01:00Z' }],
      containerStatuses: [{ name: 'c', image: 'nginx', imageID: '', ready: true, restartCount: options.restarts ?? 0 }],
    },
  };
}

const names = (pods: readonly Pod[]): string[] => pods.map((p) => p.metadata?.name ?? '');

describe('replicaDiff and slow start', () => {
  it('creates or deletes the difference, capped at the burst', () => {
    expect(replicaDiff(2, 5, 500)).toEqual({ action: 'create', count: 3 });
    expect(replicaDiff(7, 5, 500)).toEqual({ action: 'delete', count: 2 });
    expect(replicaDiff(5, 5, 500)).toEqual({ action: 'none' });
    expect(replicaDiff(0, 900, 500)).toEqual({ action: 'create', count: 500 });
  });
  it('batches 1, 2, 4, ... summing to the total', () => {
    expect(slowStartBatches(1, 1)).toEqual([1]);
    expect(slowStartBatches(10, 1)).toEqual([1, 2, 4, 3]);
    expect(slowStartBatches(50, 1)).toEqual([1, 2, 4, 8, 16, 19]);
    expect(slowStartBatches(0, 1)).toEqual([]);
  });
});

describe('deletion ranking (Kubernetes ActivePodsWithRanks)', () => {
  const order = (a: Pod, b: Pod, ranks: [number, number] = [0, 0]): number => Math.sign(compareForDeletion({ pod: a, rank: ranks[0] }, { pod: b, rank: ranks[1] }));
  it('unassigned before assigned', () => {
    expect(order(pod('a'), pod('b', { node: 'n1' }))).toBe(-1);
  });
  it('Pending < Unknown < Running', () => {
    expect(order(pod('a', { node: 'n', phase: 'Pending' }), pod('b', { node: 'n', phase: 'Unknown' }))).toBe(-1);
    expect(order(pod('a', { node: 'n', phase: 'Running' }), pod('b', { node: 'n', phase: 'Unknown' }))).toBe(1);
  });
  it('not ready before ready', () => {
    expect(order(pod('a', { node: 'n', ready: false }), pod('b', { node: 'n' }))).toBe(-1);
  });
  it('lower pod-deletion-cost first', () => {
    expect(order(pod('a', { node: 'n', cost: 10 }), pod('b', { node: 'n', cost: -5 }))).toBe(1);
  });
  it('pods doubled up on a node first', () => {
    expect(order(pod('a', { node: 'n1' }), pod('b', { node: 'n2' }), [3, 1])).toBe(-1);
  });
  it('ready for less time first, then more restarts, then newer', () => {
    expect(order(pod('a', { node: 'n', readySince: '2026-01-01T00:05:00Z' }), pod('b', { node: 'n' }))).toBe(-1);
    expect(order(pod('a', { node: 'n', restarts: 1 }), pod('b', { node: 'n', restarts: 4 }))).toBe(1);
    expect(order(pod('a', { node: 'n', created: '2026-01-01T00:00:09Z' }), pod('b', { node: 'n' }))).toBe(-1);
  });
  it('podsToDelete spreads: the node holding most related pods loses one first', () => {
    const pods = [pod('a', { node: 'n1' }), pod('b', { node: 'n1' }), pod('c', { node: 'n2' }), pod('d', { node: 'n3' })];
    expect(names(podsToDelete(pods, pods, 1))).toEqual(['a']);
    // Related pods of a sibling ReplicaSet on n3 make n3 the most crowded.
    const sibling = [pod('x', { node: 'n3' }), pod('y', { node: 'n3' })];
    expect(names(podsToDelete(pods, [...pods, ...sibling], 1))).toEqual(['d']);
    expect(names(podsToDelete(pods, pods, 9))).toEqual(['a', 'b', 'c', 'd']);
  });
  it('an unscheduled pending pod goes before everything', () => {
    const pods = [pod('a', { node: 'n1' }), pod('b', { phase: 'Pending', ready: false }), pod('c', { node: 'n1', ready: false })];
    expect(names(podsToDelete(pods, pods, 2))).toEqual(['b', 'c']);
  });
});

const rs: ReplicaSet = {
  metadata: { name: 'web-abc', namespace: 'ns', uid: 'rs-uid', generation: 3 },
  spec: {
    replicas: 3, minReadySeconds: 10, selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web', tier: 'fe' }, annotations: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
  },
};

describe('pods from the template', () => {
  it('has generateName, the template labels and annotations and the controllerRef', () => {
    const p = podFromTemplate(rs);
    expect(p.metadata).toEqual({
      generateName: 'web-abc-', namespace: 'ns', labels: { app: 'web', tier: 'fe' }, annotations: { a: 'b' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs-uid', controller: true, blockOwnerDeletion: true }],
    });
    expect(p.spec).toEqual({ containers: [{ name: 'c', image: 'nginx' }] });
  });
});

describe('status', () => {
  const now = Date.parse('2026-01-01T00:01:05Z');
  it('counts replicas, fully labeled, ready and available (minReadySeconds) and observes the generation', () => {
    const pods = [
      pod('a', { labels: { app: 'web', tier: 'fe' }, readySince: '2026-01-01T00:00:00Z' }), // available
      pod('b', { labels: { app: 'web', tier: 'fe' } }), // ready 5 s: not yet available
      pod('c', { ready: false }),
    ];
    expect(replicaSetStatus(rs, pods, { nowMs: now, failure: undefined }))
      .toEqual({ replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 3 });
  });
  it('sets ReplicaFailure on a failed create and removes it on the next good sync', () => {
    const failed = replicaSetStatus(rs, [], { nowMs: now, failure: { reason: 'FailedCreate', message: 'exceeded quota' } });
    expect(failed.conditions).toEqual([{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'exceeded quota', lastTransitionTime: '2026-01-01T00:01:05Z' }]);
    const healed = replicaSetStatus({ ...rs, status: failed }, [], { nowMs: now, failure: undefined });
    expect(healed.conditions).toBeUndefined();
    expect(statusChanged(failed, healed)).toBe(true);
    expect(statusChanged(healed, healed)).toBe(false);
  });
});

describe('expectations', () => {
  it('block a sync until every create and delete is observed', () => {
    const clock = new SimulatedClock();
    const e = new Expectations(clock, 300_000);
    expect(e.satisfied('ns/rs')).toBe(true);
    e.expectCreations('ns/rs', 2);
    expect(e.satisfied('ns/rs')).toBe(false);
    e.creationObserved('ns/rs');
    expect(e.satisfied('ns/rs')).toBe(false);
    e.creationObserved('ns/rs');
    expect(e.satisfied('ns/rs')).toBe(true);
    e.expectDeletions('ns/rs', ['ns/a', 'ns/b']);
    e.deletionObserved('ns/rs', 'ns/a');
    e.deletionObserved('ns/rs', 'ns/a');
    expect(e.pending('ns/rs')).toEqual({ adds: 0, deletes: 1 });
    expect(e.satisfied('ns/rs')).toBe(false);
  });
  it('expire after the TTL so a lost event cannot wedge a ReplicaSet', () => {
    const clock = new SimulatedClock();
    const e = new Expectations(clock, 300_000);
    e.expectCreations('ns/rs', 5);
    clock.advance(300_000);
    expect(e.satisfied('ns/rs')).toBe(false);
    clock.advance(1);
    expect(e.satisfied('ns/rs')).toBe(true);
  });
});
