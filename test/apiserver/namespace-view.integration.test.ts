/**
 * The object store's namespace view (the member's watched copy of namespaces) lets a create skip
 * the namespace read, and a stale view must never let content land in a namespace being
 * terminated: the create's txn compares the namespace's modRevision, so a view still showing the
 * namespace Active costs a retry at quorum and the store's own 403.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../scenarios/topology/local-processes.js';
import { Prng, SystemClock } from '../../bus/index.js';
import { ApiError } from '../../actors/apiserver/status.js';
import type { KubeObject } from '../../actors/apiserver/types.js';
import { ObjectStore, findResource, type ResourceInfo } from '../../actors/apiserver/registry/index.js';
import { requireComponent } from '../support/components.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const configmaps = findResource('', 'v1', 'configmaps') as ResourceInfo;
const namespaces = findResource('', 'v1', 'namespaces') as ResourceInfo;

describe.runIf(runs)('object store with a namespace view (real 1-member store)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-ns-view-'));
  let cluster: LocalCluster;
  /** What the view answers: set by each test, as a stale or fresh watch would have left it. */
  const view = new Map<string, KubeObject>();
  let objects: ObjectStore;
  let plain: ObjectStore;

  beforeAll(async () => {
    cluster = new LocalCluster({ dir, members: 1 });
    await cluster.start();
    await cluster.waitForLeader({ timeoutMs: 20_000 });
    const client = await cluster.client();
    plain = new ObjectStore(client, { clock: new SystemClock(), random: new Prng(7) });
    objects = new ObjectStore(client, { clock: new SystemClock(), random: new Prng(8), namespaces: (name) => view.get(name) });
    await plain.ensureDefaults();
  });

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates into a namespace the view shows Active', async () => {
    await plain.create(namespaces, null, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'live' } });
    view.set('live', await plain.get(namespaces, null, 'live'));
    const created = await objects.create(configmaps, 'live', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } });
    expect(created.metadata.namespace).toBe('live');
  });

  it('refuses content in a terminating namespace the stale view still shows Active', async () => {
    await plain.create(namespaces, null, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    view.set('doomed', await plain.get(namespaces, null, 'doomed'));
    // The namespace is marked for deletion after the view last saw it.
    await plain.delete(namespaces, null, 'doomed', {});
    const refused = await objects.create(configmaps, 'doomed', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } }).then(() => null, (error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect([(refused as ApiError).httpStatus, (refused as ApiError).message]).toEqual([403, 'configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated']);
    await expect(plain.get(configmaps, 'doomed', 'late')).rejects.toMatchObject({ httpStatus: 404 });
  });

  it('answers 404 for a namespace deleted since the view saw it', async () => {
    view.set('gone', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gone', resourceVersion: '3' } });
    const refused = await objects.create(configmaps, 'gone', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }).then(() => null, (error: unknown) => error);
    expect((refused as ApiError).httpStatus).toBe(404);
  });
});
