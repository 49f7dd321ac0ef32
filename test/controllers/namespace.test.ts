/**
 * The namespace controller's decisions, as pure functions: the five deletion conditions in
 * Kubernetes' words for content removed, content remaining, finalizers remaining and failures;
 * transition times kept on a repeat; the finalize body without the `kubernetes` finalizer.
 */
import { describe, expect, it } from 'vitest';
import {
  awaitsContentDeletion, contentGone, contentRecheckDelayMs, countObject, deletionConditions, finalizeRequest, statusWithConditions, type ContentReport,
} from '../../actors/controllers/namespace/index.js';
import type { KubeObject } from '../../actors/objects/index.js';

const empty: ContentReport = { remaining: new Map(), finalizers: new Map(), failures: [] };

function terminating(extra: Partial<KubeObject> = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', resourceVersion: '42', deletionTimestamp: '2026-12-02T20:00:00Z' },
    spec: { finalizers: ['kubernetes'] }, status: { phase: 'Terminating' }, ...extra,
  };
}

describe('namespace deletion decisions', () => {
  it('content removed: every condition False with its Kubernetes reason', () => {
    expect(deletionConditions(empty).map((c) => `${c.type}=${c.status} ${c.reason ?? ''}: ${c.message ?? ''}`)).toEqual([
      'NamespaceDeletionDiscoveryFailure=False ResourcesDiscovered: All resources successfully discovered',
      'NamespaceDeletionGroupVersionParsingFailure=False ParsedGroupVersions: All legacy kube types successfully parsed',
      'NamespaceDeletionContentFailure=False ContentDeleted: All content successfully deleted, may be waiting on finalization',
      'NamespaceContentRemaining=False ContentRemoved: All content successfully removed',
      'NamespaceFinalizersRemaining=False ContentHasNoFinalizers: All content-preserving finalizers finished',
    ]);
    expect(contentGone(empty)).toBe(true);
  });

  it('content held by finalizers: remaining resources and finalizers counted, sorted', () => {
    const report = { remaining: new Map<string, number>(), finalizers: new Map<string, number>(), failures: [] as string[] };
    const held = (name: string, finalizers: string[]): KubeObject => ({ apiVersion: 'v1', kind: 'X', metadata: { name, finalizers } });
    countObject(report, 'pods', held('a', ['example.com/hold']));
    countObject(report, 'configmaps', held('b', ['example.com/hold', 'foregroundDeletion']));
    countObject(report, 'configmaps', held('c', []));
    const [, , content, remaining, finalizers] = deletionConditions(report);
    expect(content?.status).toBe('False');
    expect(remaining).toMatchObject({ status: 'True', reason: 'SomeResourcesRemain', message: 'Some resources are remaining: configmaps has 2 resource instances, pods has 1 resource instances' });
    expect(finalizers).toMatchObject({
      status: 'True', reason: 'SomeFinalizersRemain',
      message: 'Some content in the namespace has finalizers remaining: example.com/hold in 2 resource instances, foregroundDeletion in 1 resource instances',
    });
    expect(contentGone(report)).toBe(false);
  });

  it('a failed delete: ContentDeletionFailed naming it, and not gone', () => {
    const report: ContentReport = { ...empty, failures: ['pods: the server is unavailable'] };
    expect(deletionConditions(report)[2]).toMatchObject({
      status: 'True', reason: 'ContentDeletionFailed', message: 'Failed to delete all resource types, 1 remaining: pods: the server is unavailable',
    });
    expect(contentGone(report)).toBe(false);
  });

  it('status: conditions set once, unchanged on a repeat (no write), transition time kept', () => {
    const first = statusWithConditions(terminating(), empty, '2026-12-02T20:00:01Z');
    expect(first?.['phase']).toBe('Terminating');
    const again = statusWithConditions(terminating({ status: first ?? {} }), empty, '2026-12-02T20:00:09Z');
    expect(again).toBeNull();
  });

  it('only a deleting namespace with the kubernetes finalizer awaits the controller; finalize drops only that finalizer', () => {
    expect(awaitsContentDeletion(terminating())).toBe(true);
    expect(awaitsContentDeletion(terminating({ spec: { finalizers: ['other'] } }))).toBe(false);
    expect(awaitsContentDeletion({ ...terminating(), metadata: { name: 'team' } })).toBe(false);
    expect(finalizeRequest(terminating({ spec: { finalizers: ['kubernetes', 'other'] } }))).toEqual({
      apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team', resourceVersion: '42' }, spec: { finalizers: ['other'] },
    });
  });

  it('content still there is looked at again after a quarter of the time terminating, from 0.5 s to 15 s', () => {
    const since = Date.parse('2026-12-02T20:00:00Z');
    expect(contentRecheckDelayMs(terminating(), since + 1_000)).toBe(500);
    expect(contentRecheckDelayMs(terminating(), since + 8_000)).toBe(2_000);
    expect(contentRecheckDelayMs(terminating(), since + 3_600_000)).toBe(15_000);
  });
});
