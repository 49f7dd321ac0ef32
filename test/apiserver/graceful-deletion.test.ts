/**
 * Graceful pod deletion, the pure rules (deletion-policy.ts): which DELETE marks a pod with a grace
 * period instead of removing it, which grace it gets, that a second delete may shorten but never
 * lengthen it (moving deletionTimestamp back by the difference), and that a terminating pod is
 * removed by a write only once no grace is left. Proved on plain objects, as Kubernetes'
 * rest.BeforeDelete and the pod strategy decide.
 */
import { describe, expect, it } from 'vitest';
import {
  deletionCompleteFor, planGracefulDeletion, podGracePeriodSeconds,
} from '../../actors/apiserver/registry/deletion-policy.js';
import { gracePeriodOption } from '../../actors/apiserver/http/resource-handlers.js';
import type { KubeObject } from '../../actors/apiserver/types.js';

const nowMs = Date.parse('2026-12-03T05:00:00Z');

function pod(options: { nodeName?: string; phase?: string; grace?: number; deletion?: { at: string; grace: number } } = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name: 'web', namespace: 'default', uid: 'u1',
      ...(options.deletion !== undefined ? { deletionTimestamp: options.deletion.at, deletionGracePeriodSeconds: options.deletion.grace } : {}),
    },
    spec: {
      containers: [{ name: 'app', image: 'x' }],
      ...(options.nodeName !== undefined ? { nodeName: options.nodeName } : {}),
      ...(options.grace !== undefined ? { terminationGracePeriodSeconds: options.grace } : {}),
    },
    status: { phase: options.phase ?? 'Running' },
  } as KubeObject;
}

describe('graceful pod deletion', () => {
  it('marks a bound running pod with the request grace, else its own, else 30; deletionTimestamp is when the grace ends', () => {
    expect(planGracefulDeletion('pods', pod({ nodeName: 'n1' }), undefined, nowMs)).toEqual({ kind: 'mark', gracePeriodSeconds: 30, deletionTimestampMs: nowMs + 30_000 });
    expect(planGracefulDeletion('pods', pod({ nodeName: 'n1', grace: 5 }), undefined, nowMs)).toEqual({ kind: 'mark', gracePeriodSeconds: 5, deletionTimestampMs: nowMs + 5_000 });
    expect(planGracefulDeletion('pods', pod({ nodeName: 'n1', grace: 5 }), 12, nowMs)).toEqual({ kind: 'mark', gracePeriodSeconds: 12, deletionTimestampMs: nowMs + 12_000 });
  });

  it('gives unbound and terminal pods no grace (removed at once), and 0 requested means 0', () => {
    expect(podGracePeriodSeconds(pod(), undefined)).toBe(0);
    expect(podGracePeriodSeconds(pod({ nodeName: 'n1', phase: 'Succeeded' }), 10)).toBe(0);
    expect(podGracePeriodSeconds(pod({ nodeName: 'n1', phase: 'Failed' }), undefined)).toBe(0);
    expect(podGracePeriodSeconds(pod({ nodeName: 'n1' }), 0)).toBe(0);
    expect(planGracefulDeletion('pods', pod({ nodeName: 'n1' }), 0, nowMs)).toMatchObject({ kind: 'mark', gracePeriodSeconds: 0 });
  });

  it('turns a negative request into 1 s, as Kubernetes does', () => {
    expect(planGracefulDeletion('pods', pod({ nodeName: 'n1' }), -5, nowMs)).toMatchObject({ kind: 'mark', gracePeriodSeconds: 1 });
  });

  it('lets a second delete shorten the grace, never lengthen it, and moves deletionTimestamp back by the difference', () => {
    const terminating = pod({ nodeName: 'n1', deletion: { at: '2026-12-03T05:00:30Z', grace: 30 } });
    expect(planGracefulDeletion('pods', terminating, undefined, nowMs)).toEqual({ kind: 'pending' });
    expect(planGracefulDeletion('pods', terminating, 30, nowMs)).toEqual({ kind: 'pending' });
    expect(planGracefulDeletion('pods', terminating, 60, nowMs)).toEqual({ kind: 'pending' });
    expect(planGracefulDeletion('pods', terminating, 10, nowMs)).toEqual({ kind: 'mark', gracePeriodSeconds: 10, deletionTimestampMs: Date.parse('2026-12-03T05:00:10Z') });
    expect(planGracefulDeletion('pods', terminating, 0, nowMs)).toEqual({ kind: 'mark', gracePeriodSeconds: 0, deletionTimestampMs: Date.parse('2026-12-03T05:00:00Z') });
  });

  it('treats a pod marked without grace (finalizers) as not graceful: it goes once nothing holds it', () => {
    expect(planGracefulDeletion('pods', pod({ nodeName: 'n1', deletion: { at: '2026-12-03T05:00:00Z', grace: 0 } }), 5, nowMs)).toEqual({ kind: 'none' });
  });

  it('deletes other kinds without grace', () => {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } } as KubeObject;
    expect(planGracefulDeletion('configmaps', configMap, 30, nowMs)).toEqual({ kind: 'none' });
  });

  it('removes a deleting object on a write only when no finalizer and no grace is left', () => {
    const graced = pod({ nodeName: 'n1', deletion: { at: '2026-12-03T05:00:30Z', grace: 30 } });
    expect(deletionCompleteFor('pods', graced)).toBe(false);
    expect(deletionCompleteFor('pods', pod({ nodeName: 'n1', deletion: { at: '2026-12-03T05:00:00Z', grace: 0 } }))).toBe(true);
    const held = { ...graced, metadata: { ...graced.metadata, deletionGracePeriodSeconds: 0, finalizers: ['x'] } };
    expect(deletionCompleteFor('pods', held)).toBe(false);
  });

  it('reads gracePeriodSeconds from the body first, else the query, and refuses a non-integer', () => {
    expect(gracePeriodOption(0, new URLSearchParams('gracePeriodSeconds=9'))).toBe(0);
    expect(gracePeriodOption(undefined, new URLSearchParams('gracePeriodSeconds=9'))).toBe(9);
    expect(gracePeriodOption(undefined, new URLSearchParams())).toBeUndefined();
    expect(() => gracePeriodOption('soon', new URLSearchParams())).toThrow(/must be an integer/);
    expect(() => gracePeriodOption(1.5, new URLSearchParams())).toThrow(/must be an integer/);
  });
});
