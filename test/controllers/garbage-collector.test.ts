/**
 * The garbage collector's decisions and the API's deletion policy, as pure functions: which
 * finalizer a DELETE leaves for each propagation policy, when a write completes a deletion
 * (namespaces: spec finalizers too), and what the collector does with an owner deleting in the
 * foreground or orphaning, and with a dependent whose owners are solid, absent or waiting.
 */
import { describe, expect, it } from 'vitest';
import {
  deletionCompleteFor, effectivePolicy, finalizeNamespace, finalizersForDeletion, keepNamespaceFinalizers,
} from '../../actors/apiserver/registry/deletion-policy.js';
import {
  decideDeletingOwner, decideDependent, finalizersWithout, ownerReferencesWithout, ownerStateOf, type DependentView, type OwnerVerdict,
} from '../../actors/controllers/garbage-collector/index.js';
import { garbageCollectedResources, namespacedContentResources, resourceForKind } from '../../actors/controllers/resource-catalog.js';
import type { KubeObject, OwnerReference } from '../../actors/objects/index.js';

const ref = (uid: string, extra: Partial<OwnerReference> = {}): OwnerReference => ({ apiVersion: 'v1', kind: 'ConfigMap', name: `owner-${uid}`, uid, ...extra });

function object(name: string, metadata: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '7', ...metadata } };
}

const view = (o: KubeObject): DependentView => ({ item: `/configmaps|ns/${o.metadata.name ?? ''}`, object: o });
const verdict = (uid: string, state: OwnerVerdict['state']): OwnerVerdict => ({ reference: ref(uid), state });
const deletingAt = '2026-12-02T20:00:00Z';

describe('deletion policy (API)', () => {
  it('each policy leaves its own GC finalizer, replacing the other, and keeps the rest in order', () => {
    const held = object('o', { finalizers: ['example.com/a', 'orphan'] });
    expect(finalizersForDeletion(held, 'Foreground')).toEqual(['example.com/a', 'foregroundDeletion']);
    expect(finalizersForDeletion(held, 'Orphan')).toEqual(['example.com/a', 'orphan']);
    expect(finalizersForDeletion(held, 'Background')).toEqual(['example.com/a']);
  });

  it('no explicit policy: the finalizer already on the object decides, else Background', () => {
    expect(effectivePolicy(object('o', { finalizers: ['orphan'] }), undefined)).toBe('Orphan');
    expect(effectivePolicy(object('o', { finalizers: ['foregroundDeletion'] }), undefined)).toBe('Foreground');
    expect(effectivePolicy(object('o'), undefined)).toBe('Background');
    expect(effectivePolicy(object('o', { finalizers: ['orphan'] }), 'Foreground')).toBe('Foreground');
  });

  it('a deletion completes when nothing holds it; a namespace also needs its spec finalizers gone', () => {
    expect(deletionCompleteFor('configmaps', object('o', { deletionTimestamp: deletingAt }))).toBe(true);
    expect(deletionCompleteFor('configmaps', object('o', { deletionTimestamp: deletingAt, finalizers: ['x'] }))).toBe(false);
    expect(deletionCompleteFor('configmaps', object('o'))).toBe(false);
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', deletionTimestamp: deletingAt }, spec: { finalizers: ['kubernetes'] } };
    expect(deletionCompleteFor('namespaces', ns)).toBe(false);
    expect(deletionCompleteFor('namespaces', { ...ns, spec: {} })).toBe(true);
  });

  it('finalize changes only spec.finalizers; a main update keeps them', () => {
    const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', labels: { a: 'b' } }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Terminating' } };
    const finalized = finalizeNamespace(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', labels: {} }, spec: { finalizers: [] }, status: { phase: 'Active' } });
    expect(finalized).toEqual({ ...ns, spec: {} });
    expect(keepNamespaceFinalizers(ns, { ...ns, spec: {} })).toEqual(ns);
  });
});

describe('garbage collector decisions', () => {
  it('an owner deleting in the foreground collects its live dependents and keeps its finalizer while a blocking one is left', () => {
    const owner = object('rs', { deletionTimestamp: deletingAt, finalizers: ['foregroundDeletion'] });
    const blocking = object('p1', { ownerReferences: [ref('uid-rs', { blockOwnerDeletion: true })] });
    const loose = object('p2', { ownerReferences: [ref('uid-rs')] });
    const going = object('p3', { ownerReferences: [ref('uid-rs', { blockOwnerDeletion: true })], deletionTimestamp: deletingAt, finalizers: ['x'] });
    expect(decideDeletingOwner(owner, [view(blocking), view(loose), view(going)])).toEqual({
      type: 'foreground', collect: [view(blocking), view(loose)], removeFinalizer: false,
    });
    expect(decideDeletingOwner(owner, [view(loose)])).toEqual({ type: 'foreground', collect: [view(loose)], removeFinalizer: true });
    expect(decideDeletingOwner(owner, [])).toEqual({ type: 'foreground', collect: [], removeFinalizer: true });
  });

  it('an owner deleting with orphan hands every dependent over; one not deleting or without a GC finalizer is no owner case', () => {
    const owner = object('rs', { deletionTimestamp: deletingAt, finalizers: ['orphan'] });
    const dependent = object('p1', { ownerReferences: [ref('uid-rs')] });
    expect(decideDeletingOwner(owner, [view(dependent)])).toEqual({ type: 'orphanDependents', dependents: [view(dependent)] });
    expect(decideDeletingOwner(object('rs', { finalizers: ['orphan'] }), [])).toBeNull();
    expect(decideDeletingOwner(object('rs', { deletionTimestamp: deletingAt, finalizers: ['x'] }), [])).toBeNull();
  });

  it('a dependent with a solid owner only loses its references to absent and waiting owners', () => {
    const item = object('p', { ownerReferences: [ref('a'), ref('b'), ref('c')] });
    expect(decideDependent(item, [verdict('a', 'solid'), verdict('b', 'absent'), verdict('c', 'waiting')], false))
      .toEqual({ type: 'removeOwnerReferences', uids: ['b', 'c'] });
    expect(decideDependent(item, [verdict('a', 'solid'), verdict('b', 'unresolvable')], false)).toEqual({ type: 'none' });
    expect(decideDependent(item, [verdict('a', 'unresolvable'), verdict('b', 'absent')], false)).toEqual({ type: 'removeOwnerReferences', uids: ['b'] });
  });

  it('a dependent with no solid owner is deleted: foreground when a waiting owner must wait for its own dependents', () => {
    const item = object('rs', { ownerReferences: [ref('d')] });
    expect(decideDependent(item, [verdict('d', 'absent')], true)).toEqual({ type: 'delete', policy: 'Background' });
    expect(decideDependent(item, [verdict('d', 'waiting')], false)).toEqual({ type: 'delete', policy: 'Background' });
    expect(decideDependent(item, [verdict('d', 'waiting')], true)).toEqual({ type: 'delete', policy: 'Foreground' });
    expect(decideDependent(object('x', { finalizers: ['orphan'] }), [verdict('d', 'absent')], false)).toEqual({ type: 'delete', policy: 'Orphan' });
    expect(decideDependent(object('x', { deletionTimestamp: deletingAt, finalizers: ['y'] }), [verdict('d', 'absent')], false)).toEqual({ type: 'none' });
    expect(decideDependent(object('x'), [], false)).toEqual({ type: 'none' });
  });

  it('an owner is absent when not found or found with another uid (the name reused), waiting when deleting in the foreground', () => {
    expect(ownerStateOf(ref('u'), null)).toBe('absent');
    expect(ownerStateOf(ref('u'), object('owner-u', { uid: 'other' }))).toBe('absent');
    expect(ownerStateOf(ref('u'), object('owner-u', { uid: 'u' }))).toBe('solid');
    expect(ownerStateOf(ref('u'), object('owner-u', { uid: 'u', deletionTimestamp: deletingAt, finalizers: ['orphan'] }))).toBe('solid');
    expect(ownerStateOf(ref('u'), object('owner-u', { uid: 'u', deletionTimestamp: deletingAt, finalizers: ['foregroundDeletion'] }))).toBe('waiting');
  });

  it('patch bodies: the references or finalizers left, null when none is', () => {
    const item = object('p', { ownerReferences: [ref('a'), ref('b')], finalizers: ['orphan', 'x'] });
    expect(ownerReferencesWithout(item, ['a'])).toEqual([ref('b')]);
    expect(ownerReferencesWithout(item, ['a', 'b'])).toBeNull();
    expect(finalizersWithout(item, 'orphan')).toEqual(['x']);
    expect(finalizersWithout(object('q', { finalizers: ['orphan'] }), 'orphan')).toBeNull();
  });

  it('resources: owners resolve by group and kind; events are not collected; namespaces are no namespace content', () => {
    expect(resourceForKind('apps/v1', 'ReplicaSet')).toEqual({ group: 'apps', version: 'v1', resource: 'replicasets', namespaced: true });
    expect(resourceForKind('autoscaling/v1', 'HorizontalPodAutoscaler')?.version).toBe('v2');
    expect(resourceForKind('example.com/v1', 'Widget')).toBeUndefined();
    const collected = garbageCollectedResources().map((r) => `${r.group}/${r.resource}`);
    expect(collected).toContain('/pods');
    expect(collected).toContain('/nodes');
    expect(collected).not.toContain('/events');
    const content = namespacedContentResources().map((r) => `${r.group}/${r.resource}`);
    expect(content).toContain('/events');
    expect(content).toContain('rbac.authorization.k8s.io/rolebindings');
    expect(content).not.toContain('/namespaces');
    expect(new Set(content).size).toBe(content.length);
  });
});

describe('absent owners cache', () => {
  it('remembers verified-absent uids up to its bound, forgetting the least recently used', async () => {
    const { AbsentOwners } = await import('../../actors/controllers/garbage-collector/absent-owners.js');
    const cache = new AbsentOwners(2);
    cache.add('a');
    cache.add('b');
    expect(cache.has('a')).toBe(true);
    cache.add('c');
    expect([cache.has('a'), cache.has('b'), cache.has('c'), cache.size]).toEqual([true, false, true, 2]);
  });
});
