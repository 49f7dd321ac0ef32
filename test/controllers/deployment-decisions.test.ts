/**
 * The Deployment controller's pure decisions, with exact cases from Kubernetes' own semantics:
 * int-or-percent fenceposts (surge up, unavailable down, never both zero), the rolling step (new
 * ReplicaSet growth within maxSurge, old shrink within maxUnavailable, unhealthy old pods first),
 * proportional scaling, revisions and their history, cleanup beyond revisionHistoryLimit, the
 * pod-template-hash, and the status conditions `kubectl rollout status` reads.
 */
import { describe, expect, it } from 'vitest';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import {
  calculateStatus, equalIgnoringHash, findNewReplicaSet, isScalingEvent, maxSurge, maxUnavailable, newReplicaSetAnnotations, newReplicaSetSize,
  oldReplicaSetsScaleDown, pausedCondition, podTemplateHash, replicaSetsToCleanUp, resolveFenceposts, rolloutStatus, scaleTargets, scaledValue,
  setDeploymentCondition, stuckRecheckMs,
} from '../../actors/controllers/deployment/index.js';

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } };

function deployment(replicas: number, options: { surge?: number | string; unavailable?: number | string; recreate?: boolean; paused?: boolean; status?: Deployment['status']; generation?: number } = {}): Deployment {
  return {
    metadata: { name: 'web', namespace: 'ns', uid: 'd-uid', generation: options.generation ?? 1 },
    spec: {
      replicas, selector: { matchLabels: { app: 'web' } }, template, revisionHistoryLimit: 2, progressDeadlineSeconds: 600,
      ...(options.paused === true ? { paused: true } : {}),
      strategy: options.recreate === true ? { type: 'Recreate' } : { type: 'RollingUpdate', rollingUpdate: { maxSurge: options.surge ?? '25%', maxUnavailable: options.unavailable ?? '25%' } },
    },
    ...(options.status !== undefined ? { status: options.status } : {}),
  };
}

function rs(name: string, replicas: number, options: { available?: number; created?: string; revision?: number; image?: string; max?: number; desired?: number; statusReplicas?: number } = {}): ReplicaSet {
  const annotations: Record<string, string> = {};
  if (options.revision !== undefined) annotations['deployment.kubernetes.io/revision'] = String(options.revision);
  if (options.max !== undefined) annotations['deployment.kubernetes.io/max-replicas'] = String(options.max);
  if (options.desired !== undefined) annotations['deployment.kubernetes.io/desired-replicas'] = String(options.desired);
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, creationTimestamp: options.created ?? '2026-01-01T00:00:00Z', annotations, generation: 1 },
    spec: {
      replicas, selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', 'pod-template-hash': name } }, spec: { containers: [{ name: 'c', image: options.image ?? 'nginx:1.25' }] } },
    },
    status: { replicas: options.statusReplicas ?? replicas, availableReplicas: options.available ?? replicas, readyReplicas: options.available ?? replicas, observedGeneration: 1 },
  };
}

describe('int-or-percent and fenceposts', () => {
  it('scales percentages up or down and reads ints as they are', () => {
    expect(scaledValue('25%', 10, true)).toBe(3);
    expect(scaledValue('25%', 10, false)).toBe(2);
    expect(scaledValue(4, 10, true)).toBe(4);
    expect(() => scaledValue('x%', 10, true)).toThrow(/int-or-percent/);
  });
  it('rounds surge up and unavailable down; both zero makes unavailable 1', () => {
    expect(resolveFenceposts('25%', '25%', 5)).toEqual({ surge: 2, unavailable: 1 });
    expect(resolveFenceposts('10%', '10%', 5)).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts(0, '10%', 5)).toEqual({ surge: 0, unavailable: 1 });
    expect(maxSurge(deployment(5, { recreate: true }))).toBe(0);
    expect(maxUnavailable(deployment(0))).toBe(0);
    expect(maxUnavailable(deployment(3, { surge: 0, unavailable: 5 }))).toBe(3);
  });
});

describe('rolling step', () => {
  const d = deployment(5, { surge: 1, unavailable: 1 });
  it('grows the new ReplicaSet up to replicas + maxSurge in total', () => {
    const old = rs('old', 5);
    expect(newReplicaSetSize(d, [old], undefined)).toBe(1);
    expect(newReplicaSetSize(d, [old, rs('new', 1, { available: 0 })], rs('new', 1, { available: 0 }))).toBe(1);
    expect(newReplicaSetSize(d, [rs('old', 3), rs('new', 2)], rs('new', 2))).toBe(3);
    expect(newReplicaSetSize(deployment(5, { recreate: true }), [rs('old', 5)], undefined)).toBe(5);
  });
  it('counts pods a scaled-down ReplicaSet still has until their deletion is seen', () => {
    const next = rs('new', 1);
    expect(newReplicaSetSize(d, [rs('old', 4), next], next, new Map([['old', 5], ['new', 1]]))).toBe(1);
    expect(newReplicaSetSize(d, [rs('old', 4), next], next, new Map([['old', 4], ['new', 1]]))).toBe(2);
  });
  it('shrinks old ReplicaSets only while available pods stay >= replicas - maxUnavailable', () => {
    // 5 old available + 1 new not yet available: one old pod may go (4 available remain).
    expect(oldReplicaSetsScaleDown(d, [rs('old', 5)], rs('new', 1, { available: 0 }))).toEqual([{ name: 'old', replicas: 4 }]);
    // 4 old + 2 new not available: none may go until a new one is available.
    expect(oldReplicaSetsScaleDown(d, [rs('old', 4)], rs('new', 2, { available: 0 }))).toEqual([]);
    expect(oldReplicaSetsScaleDown(d, [rs('old', 4)], rs('new', 2, { available: 1 }))).toEqual([{ name: 'old', replicas: 3 }]);
    // Old pods that are not available go first and cost no availability.
    expect(oldReplicaSetsScaleDown(d, [rs('a', 2, { available: 0, created: '2026-01-01T00:00:00Z' }), rs('b', 4, { created: '2026-01-02T00:00:00Z' })], rs('new', 0)))
      .toEqual([{ name: 'a', replicas: 0 }]);
  });
  it('does not count available pods beyond a ReplicaSet spec (a status that lags a scale-down)', () => {
    // old was scaled 5 -> 4 and its status still says 5 available: only 4 + 1 count.
    expect(oldReplicaSetsScaleDown(d, [rs('old', 4, { available: 5 })], rs('new', 1, { available: 1 }))).toEqual([{ name: 'old', replicas: 3 }]);
  });
});

describe('scaling', () => {
  it('gives everything to the one active ReplicaSet', () => {
    expect(scaleTargets(deployment(3), rs('new', 5), [rs('old', 0)])).toEqual([{ name: 'new', replicas: 3 }]);
    expect(scaleTargets(deployment(3), rs('new', 0), [rs('old', 0)])).toEqual([{ name: 'new', replicas: 3 }]);
  });
  it('scales mid-rollout ReplicaSets in proportion (Kubernetes example: 10 -> 15 with 25% surge)', () => {
    // Sized for 10 replicas (max 13): new 6, old 7 = 13. Now 15 replicas, max 19: +6 shared 6/13 and 7/13.
    const d = deployment(15);
    const targets = scaleTargets(d, rs('new', 6, { max: 13, desired: 10, created: '2026-01-02T00:00:00Z' }), [rs('old', 7, { max: 13, desired: 10 })]);
    expect(targets).toEqual([{ name: 'old', replicas: 10 }, { name: 'new', replicas: 9 }]);
    expect(isScalingEvent(d, [rs('old', 7, { desired: 10 })])).toBe(true);
    expect(isScalingEvent(deployment(10), [rs('old', 7, { desired: 10 })])).toBe(false);
  });
  it('scales everything to zero', () => {
    expect(scaleTargets(deployment(0), rs('new', 2, { max: 6, desired: 5 }), [rs('old', 3, { max: 6, desired: 5 })]))
      .toEqual([{ name: 'old', replicas: 0 }, { name: 'new', replicas: 0 }]);
  });
});

describe('revisions', () => {
  const d = deployment(5, { surge: 1 });
  it('stamps a new ReplicaSet with the next revision, desired and max replicas', () => {
    expect(newReplicaSetAnnotations(d, undefined, { newRevision: 3, maxSurge: 1 })).toEqual({
      'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/desired-replicas': '5', 'deployment.kubernetes.io/max-replicas': '6',
    });
  });
  it('a reused ReplicaSet gets the next revision and remembers its old one', () => {
    const reused = rs('old', 0, { revision: 1 });
    reused.metadata!.annotations!['deployment.kubernetes.io/revision-history'] = '0';
    expect(newReplicaSetAnnotations({ ...d, metadata: { ...d.metadata, annotations: { 'kubernetes.io/change-cause': 'undo', 'deployment.kubernetes.io/revision': '2' } } }, reused, { newRevision: 3, maxSurge: 1 }))
      .toEqual({ 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '0,1', 'kubernetes.io/change-cause': 'undo' });
  });
  it('finds the new ReplicaSet by template, the hash label aside, and null or empty fields equal to absent', () => {
    const sets = [rs('b', 1, { created: '2026-01-03T00:00:00Z' }), rs('a', 1, { created: '2026-01-02T00:00:00Z' }), rs('c', 1, { image: 'other' })];
    expect(findNewReplicaSet(d, sets)?.metadata?.name).toBe('a');
    expect(equalIgnoringHash({ metadata: { labels: { app: 'web' }, creationTimestamp: null } as never, spec: { containers: [{ name: 'c', resources: {} }] } },
      { metadata: { labels: { app: 'web', 'pod-template-hash': 'x' } }, spec: { containers: [{ name: 'c' }] } })).toBe(true);
  });
  it('cleans up old empty ReplicaSets beyond revisionHistoryLimit, lowest revision first', () => {
    const old = [rs('r3', 0, { revision: 3 }), rs('r1', 0, { revision: 1 }), rs('r2', 2, { revision: 2 }), rs('r4', 0, { revision: 4 })];
    // Limit 2, 4 old: the two lowest (r1, r2) are candidates; r2 still has replicas.
    expect(replicaSetsToCleanUp(d, old).map((s) => s.metadata?.name)).toEqual(['r1']);
  });
  it('the pod-template-hash is stable, in the safe alphabet, and changes with collisionCount', () => {
    const a = podTemplateHash(template, undefined);
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(podTemplateHash(structuredClone(template), 0)).toBe(a);
    expect(podTemplateHash({ spec: template.spec, metadata: template.metadata }, undefined)).toBe(a);
    expect(podTemplateHash(template, 1)).not.toBe(a);
  });
});

describe('status and conditions', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  it('counts from the ReplicaSets and sets Available by minimum availability', () => {
    const d = deployment(5, { surge: 1, unavailable: 1 });
    const status = calculateStatus(d, [rs('old', 2, { available: 2 }), rs('new', 4, { available: 1 })], rs('new', 4, { available: 1 }), '2026-01-01T00:10:00Z');
    expect(status).toMatchObject({ observedGeneration: 1, replicas: 6, updatedReplicas: 4, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 3 });
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([['Available', 'False', 'MinimumReplicasUnavailable']]);
  });
  it('Progressing: ReplicaSetUpdated on progress, NewReplicaSetAvailable when complete, ProgressDeadlineExceeded after the deadline', () => {
    const progressing = rolloutStatus(deployment(2, { status: { updatedReplicas: 0 } }), [rs('new', 2, { available: 0 })], rs('new', 2, { available: 0 }), { nowMs: now });
    expect(progressing.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'ReplicaSetUpdated', message: 'ReplicaSet "new" is progressing.' });
    const complete = rolloutStatus(deployment(2), [rs('new', 2)], rs('new', 2), { nowMs: now });
    expect(complete.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet "new" has successfully progressed.' });
    const stale = { updatedReplicas: 2, replicas: 2, availableReplicas: 0, conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', lastUpdateTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' }] };
    const stuck = deployment(2, { status: stale });
    expect(stuckRecheckMs(stuck, stale, Date.parse('2026-01-01T00:05:00Z'))).toBe(301_000);
    const timedOut = rolloutStatus(stuck, [rs('new', 2, { available: 0 })], rs('new', 2, { available: 0 }), { nowMs: Date.parse('2026-01-01T00:10:01Z') });
    expect(timedOut.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "new" has timed out progressing.' });
  });
  it('pause and resume set Progressing Unknown; a reported timeout stays', () => {
    expect(pausedCondition(deployment(2, { paused: true }), now)).toMatchObject({ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' });
    const wasPaused = deployment(2, { status: { conditions: [{ type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused' }] } });
    expect(pausedCondition(wasPaused, now)).toMatchObject({ reason: 'DeploymentResumed', message: 'Deployment is resumed' });
    const timedOut = deployment(2, { paused: true, status: { conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] } });
    expect(pausedCondition(timedOut, now)).toBeUndefined();
  });
  it('a condition re-asserted with the same status and reason keeps its times', () => {
    const first = [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', lastUpdateTime: 't1', lastTransitionTime: 't1' }];
    expect(setDeploymentCondition(first, { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', lastUpdateTime: 't2', lastTransitionTime: 't2' })).toEqual(first);
    expect(setDeploymentCondition(first, { type: 'Available', status: 'True', reason: 'Other', lastUpdateTime: 't2', lastTransitionTime: 't2' }))
      .toEqual([{ type: 'Available', status: 'True', reason: 'Other', lastUpdateTime: 't2', lastTransitionTime: 't1' }]);
  });
});
