/**
 * The object store against a real 1-member store (nats-server + a member process): server-owned
 * metadata, optimistic concurrency, status and generation rules, finalizers, consistent paginated
 * lists, and watches (synthetic ADDED, replay, selector transitions, 410 after compaction).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from '../../scenarios/topology/local-processes.js';
import { Prng, SimulatedClock, SystemClock } from '../../bus/index.js';
import { OutcomeUnknownError, type StoreClient } from '../../store/index.js';
import { ApiError } from '../../actors/apiserver/status.js';
import type { KubeObject } from '../../actors/apiserver/types.js';
import { ObjectStore, findResource, type ObjectWatchEvent, type ResourceInfo } from '../../actors/apiserver/registry/index.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

const info = (group: string, version: string, resource: string): ResourceInfo => {
  const found = findResource(group, version, resource);
  if (found === undefined) throw new Error(`no resource ${resource}`);
  return found;
};
const pods = info('', 'v1', 'pods');
const configmaps = info('', 'v1', 'configmaps');
const namespaces = info('', 'v1', 'namespaces');
const deployments = info('apps', 'v1', 'deployments');
const nodes = info('', 'v1', 'nodes');

const pod = (name: string, labels: Record<string, string> = {}, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'c', image: 'nginx' }] }, ...extra,
});

async function apiError(promise: Promise<unknown>): Promise<ApiError> {
  const outcome = await promise.then(() => null, (error: unknown) => error);
  if (!(outcome instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(outcome)}`);
  return outcome;
}

describe.runIf(runs)('object store (real 1-member store)', () => {
  let cluster: LocalCluster;
  let client: StoreClient;
  let objects: ObjectStore;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubus-objects-'));
    cluster = new LocalCluster({ dir, members: 1 });
    await cluster.start();
    await cluster.waitForLeader({ timeoutMs: 20_000 });
    client = await cluster.client();
    objects = new ObjectStore(client, { clock: new SystemClock(), random: new Prng(7), wallClockMs: () => Date.parse('2026-11-24T05:39:34.750Z') });
    await objects.ensureDefaults();
  });

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('create sets uid, creationTimestamp, generation, namespace and resourceVersion; a second create is 409 AlreadyExists', async () => {
    const created = await objects.create(pods, 'default', pod('p1'));
    expect(created.metadata.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.metadata.creationTimestamp).toBe('2026-11-24T05:39:34Z');
    expect(created.metadata.generation).toBe(1);
    expect(created.metadata.namespace).toBe('default');
    const read = await objects.get(pods, 'default', 'p1');
    expect(read.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(read).toEqual(created);
    const again = await apiError(objects.create(pods, 'default', pod('p1')));
    expect([again.httpStatus, again.reason, again.message]).toEqual([409, 'AlreadyExists', 'pods "p1" already exists']);
  });

  it('generateName, missing namespace 404, namespace mismatch 400, get of a missing object 404', async () => {
    const generated = await objects.create(pods, 'default', { ...pod(''), metadata: { generateName: 'web-' } });
    expect(generated.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    const missing = await apiError(objects.create(pods, 'nope', pod('p')));
    expect([missing.httpStatus, missing.message]).toEqual([404, 'namespaces "nope" not found']);
    const slash = await apiError(objects.create(pods, 'default', pod('a/b')));
    expect([slash.httpStatus, slash.reason]).toEqual([422, 'Invalid']);
    expect((await apiError(objects.create(pods, 'default', { ...pod(''), metadata: { generateName: '../' } }))).httpStatus).toBe(422);
    const mismatch = await apiError(objects.create(pods, 'default', { ...pod('p'), metadata: { name: 'p', namespace: 'other' } }));
    expect(mismatch.httpStatus).toBe(400);
    const notFound = await apiError(objects.get(deployments, 'default', 'ghost'));
    expect([notFound.httpStatus, notFound.message]).toEqual([404, 'deployments.apps "ghost" not found']);
    const dry = await objects.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dry' } }, { dryRun: true });
    expect(dry.metadata.uid).toBeDefined();
    expect((await apiError(objects.get(configmaps, 'default', 'dry'))).httpStatus).toBe(404);
  });

  it('update: stale resourceVersion is 409 Conflict; status kept on the main resource; /status changes only status; generation counts spec changes', async () => {
    const created = await objects.create(deployments, 'default', {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd1' }, spec: { replicas: 1 }, status: { replicas: 5 },
    });
    const labelled = await objects.update(deployments, 'default', 'd1', { ...created, metadata: { ...created.metadata, labels: { a: 'b' } } });
    expect(labelled.metadata.generation).toBe(1);
    expect(Number(labelled.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    const stale = await apiError(objects.update(deployments, 'default', 'd1', { ...created, spec: { replicas: 2 } }));
    expect([stale.httpStatus, stale.reason]).toEqual([409, 'Conflict']);
    expect(stale.message).toBe('Operation cannot be fulfilled on deployments.apps "d1": the object has been modified; please apply your changes to the latest version and try again');
    const scaled = await objects.update(deployments, 'default', 'd1', { ...labelled, spec: { replicas: 3 }, status: { replicas: 99 } });
    expect(scaled.metadata.generation).toBe(2);
    expect(scaled['spec']).toEqual({ replicas: 3 });
    expect(scaled['status']).toEqual({ replicas: 5 });
    expect(scaled.metadata.uid).toBe(created.metadata.uid);
    const statusWrite = await objects.update(deployments, 'default', 'd1', { ...scaled, spec: { replicas: 7 }, status: { replicas: 3 } }, { subresource: 'status' });
    expect(statusWrite['spec']).toEqual({ replicas: 3 });
    expect(statusWrite['status']).toEqual({ replicas: 3 });
    expect(statusWrite.metadata.generation).toBe(2);
    const noop = await objects.update(deployments, 'default', 'd1', statusWrite);
    expect(noop.metadata.resourceVersion).toBe(statusWrite.metadata.resourceVersion);
  });

  it('guaranteedUpdate retries lost races: 10 concurrent increments all land', async () => {
    await objects.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'counter' }, data: { n: '0' } });
    await Promise.all(Array.from({ length: 10 }, () => objects.guaranteedUpdate(configmaps, 'default', 'counter', (current) => {
      const data = current['data'] as { n: string };
      return { ...current, data: { n: String(Number(data.n) + 1) } };
    })));
    const final = await objects.get(configmaps, 'default', 'counter');
    expect(final['data']).toEqual({ n: '10' });
  });

  it('delete: preconditions, finalizers hold the object with deletionTimestamp until cleared, then it is gone', async () => {
    const created = await objects.create(pods, 'default', pod('fin', {}, { metadata: { name: 'fin', finalizers: ['example.com/hold'] } }));
    const wrongUid = await apiError(objects.delete(pods, 'default', 'fin', { preconditions: { uid: 'x' } }));
    expect(wrongUid.httpStatus).toBe(409);
    const marked = await objects.delete(pods, 'default', 'fin');
    expect(marked.deleted).toBe(false);
    expect(marked.object.metadata.deletionTimestamp).toBe('2026-11-24T05:39:34Z');
    expect(marked.object.metadata.deletionGracePeriodSeconds).toBe(0);
    const held = await objects.get(pods, 'default', 'fin');
    expect(held.metadata.uid).toBe(created.metadata.uid);
    const released = await objects.update(pods, 'default', 'fin', { ...held, metadata: { ...held.metadata, finalizers: [] } });
    expect(Number(released.metadata.resourceVersion)).toBeGreaterThan(Number(held.metadata.resourceVersion));
    expect((await apiError(objects.get(pods, 'default', 'fin'))).httpStatus).toBe(404);
    await objects.create(pods, 'default', pod('plain'));
    const gone = await objects.delete(pods, 'default', 'plain');
    expect(gone.deleted).toBe(true);
    expect((await apiError(objects.delete(pods, 'default', 'plain'))).httpStatus).toBe(404);
  });

  it('list: selectors, consistent pages through continue tokens, remainingItemCount, 400 for bad selectors', async () => {
    await objects.create(namespaces, null, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'paging' } });
    for (let i = 0; i < 7; i++) await objects.create(pods, 'paging', pod(`p${i}`, { tier: i % 2 === 0 ? 'even' : 'odd' }));
    const all = await objects.list(pods, 'paging');
    expect(all.items.map((p) => p.metadata.name)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    const first = await objects.list(pods, 'paging', { limit: 3 });
    expect(first.items.map((p) => p.metadata.name)).toEqual(['p0', 'p1', 'p2']);
    expect(first.remainingItemCount).toBe(4);
    await objects.create(pods, 'paging', pod('p7'));
    await objects.delete(pods, 'paging', 'p5');
    const names: string[] = first.items.map((p) => p.metadata.name ?? '');
    let token = first.continue;
    for (let page = 0; token !== undefined && page < 10; page++) {
      const next = await objects.list(pods, 'paging', { limit: 3, continue: token });
      expect(next.resourceVersion).toBe(first.resourceVersion);
      names.push(...next.items.map((p) => p.metadata.name ?? ''));
      token = next.continue;
    }
    expect(names).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    const even = await objects.list(pods, 'paging', { labelSelector: 'tier in (even)', limit: 2 });
    expect(even.items.map((p) => p.metadata.name)).toEqual(['p0', 'p2']);
    const rest = await objects.list(pods, 'paging', { labelSelector: 'tier in (even)', limit: 2, continue: even.continue });
    expect(rest.items.map((p) => p.metadata.name)).toEqual(['p4', 'p6']);
    const byName = await objects.list(pods, null, { fieldSelector: 'metadata.name=p3,metadata.namespace=paging' });
    expect(byName.items.map((p) => p.metadata.name)).toEqual(['p3']);
    expect((await apiError(objects.list(pods, null, { labelSelector: 'a in (b' }))).httpStatus).toBe(400);
    expect((await apiError(objects.list(pods, null, { fieldSelector: 'spec.bogus=1' }))).message).toBe('field label not supported: spec.bogus');
    expect((await apiError(objects.list(pods, null, { continue: 'garbage!' }))).httpStatus).toBe(400);
    const cached = await objects.list(pods, 'paging', { resourceVersion: '0' });
    expect(cached.items.length).toBe(7);
  });

  it('cluster-scoped objects; deleting a namespace marks it Terminating (content stays for the namespace controller) until finalize; default namespaces are protected', async () => {
    const node = await objects.create(nodes, null, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', namespace: 'ignored' } });
    expect(node.metadata.namespace).toBeUndefined();
    await objects.create(namespaces, null, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' }, spec: { finalizers: ['kubernetes'] } });
    await objects.create(pods, 'doomed', pod('a'));
    const result = await objects.delete(namespaces, null, 'doomed');
    expect(result.deleted).toBe(false);
    expect(result.object['status']).toEqual({ phase: 'Terminating' });
    expect(result.object.metadata.deletionTimestamp).toBe('2026-11-24T05:39:34Z');
    expect((await objects.list(pods, 'doomed')).items.map((p) => p.metadata.name)).toEqual(['a']);
    const refused = await apiError(objects.create(configmaps, 'doomed', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }));
    expect([refused.httpStatus, refused.message]).toEqual([403, 'configmaps "c" is forbidden: unable to create new content in namespace doomed because it is being terminated']);
    const again = await apiError(objects.delete(namespaces, null, 'doomed'));
    expect([again.httpStatus, again.message]).toEqual([409, 'Operation cannot be fulfilled on namespaces "doomed": The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.']);
    const terminating = await objects.get(namespaces, null, 'doomed');
    await objects.update(namespaces, null, 'doomed', { ...terminating, spec: { finalizers: [] } });
    expect((await objects.get(namespaces, null, 'doomed'))['spec']).toEqual({ finalizers: ['kubernetes'] });
    await objects.update(namespaces, null, 'doomed', { ...terminating, spec: { finalizers: [] } }, { subresource: 'finalize' });
    expect((await apiError(objects.get(namespaces, null, 'doomed'))).httpStatus).toBe(404);
    expect((await apiError(objects.delete(namespaces, null, 'default'))).httpStatus).toBe(403);
  });

  it('watch: synthetic ADDED at rv 0, then live events; replay after N; selector transitions; DELETED carries the deletion resourceVersion', async () => {
    await objects.create(namespaces, null, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'watched' } });
    const before = await objects.create(pods, 'watched', pod('w0', { app: 'x' }));
    const events: ObjectWatchEvent[] = [];
    const closes: unknown[] = [];
    const watch = await objects.watch(pods, 'watched', { resourceVersion: '0', labelSelector: 'app=x' }, { event: (e) => events.push(e), close: (e) => closes.push(e) });
    const w1 = await objects.create(pods, 'watched', pod('w1', { app: 'x' }));
    await objects.update(pods, 'watched', 'w1', { ...w1, metadata: { ...w1.metadata, labels: { app: 'y' } } });
    await objects.create(pods, 'watched', pod('other', { app: 'y' }));
    const deleted = await objects.delete(pods, 'watched', 'w0');
    await waitUntil('4 events', () => events.length >= 4, { timeoutMs: 10_000 });
    watch.stop();
    const summary = events.map((e) => `${e.type} ${(e.object as KubeObject).metadata.name}`);
    expect(summary).toEqual(['ADDED w0', 'ADDED w1', 'DELETED w1', 'DELETED w0']);
    expect((events[3]?.object as KubeObject).metadata.resourceVersion).toBe(deleted.object.metadata.resourceVersion);
    expect(closes).toEqual([]);

    const replay: ObjectWatchEvent[] = [];
    const second = await objects.watch(pods, 'watched', { resourceVersion: before.metadata.resourceVersion }, { event: (e) => replay.push(e), close: () => undefined });
    await waitUntil('replayed events', () => replay.length >= 4, { timeoutMs: 10_000 });
    second.stop();
    expect(replay.map((e) => `${e.type} ${(e.object as KubeObject).metadata.name}`)).toEqual(['ADDED w1', 'MODIFIED w1', 'ADDED other', 'DELETED w0']);
  });

  it('watch from a compacted resourceVersion closes with a 410 Expired error (the ERROR event); list continue after compaction is 410', async () => {
    const old = await objects.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'old' } });
    const page = await objects.list(configmaps, 'default', { limit: 1 });
    const latest = await objects.update(configmaps, 'default', 'old', { ...old, data: { a: '1' } });
    await client.compact(Number(latest.metadata.resourceVersion));
    const events: ObjectWatchEvent[] = [];
    const closes: (ApiError | undefined)[] = [];
    await objects.watch(configmaps, 'default', { resourceVersion: old.metadata.resourceVersion }, { event: (e) => events.push(e), close: (e) => closes.push(e) });
    expect(events).toEqual([]);
    expect(closes).toHaveLength(1);
    expect(closes[0]?.toStatus()).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired', message: `too old resource version: ${old.metadata.resourceVersion} (${latest.metadata.resourceVersion})` });
    expect(page.continue).toBeDefined();
    const expired = await apiError(objects.list(configmaps, 'default', { limit: 1, continue: page.continue }));
    expect([expired.httpStatus, expired.reason]).toEqual([410, 'Expired']);
  });

  it('deletecollection by label, dry-run delete, and HPAs shared between autoscaling v1 and v2', async () => {
    await objects.create(namespaces, null, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bulk' } });
    for (const name of ['a', 'b', 'c']) await objects.create(configmaps, 'bulk', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { drop: name === 'c' ? 'no' : 'yes' } } });
    const dry = await objects.delete(configmaps, 'bulk', 'a', { dryRun: true });
    expect(dry.deleted).toBe(true);
    expect((await objects.get(configmaps, 'bulk', 'a')).metadata.name).toBe('a');
    const removed = await objects.deleteCollection(configmaps, 'bulk', { labelSelector: 'drop=yes' });
    expect(removed.items.map((c) => c.metadata.name)).toEqual(['a', 'b']);
    expect((await objects.list(configmaps, 'bulk')).items.map((c) => c.metadata.name)).toEqual(['c']);
    const v2 = info('autoscaling', 'v2', 'horizontalpodautoscalers');
    const v1 = info('autoscaling', 'v1', 'horizontalpodautoscalers');
    await objects.create(v2, 'bulk', { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' }, spec: { maxReplicas: 3 } });
    expect((await objects.get(v1, 'bulk', 'h')).apiVersion).toBe('autoscaling/v1');
  });

  it('bookmarks every 5 s of the injected clock when allowed, and marks the end of initial events', async () => {
    const clock = new SimulatedClock();
    const simulated = new ObjectStore(client, { clock });
    const events: ObjectWatchEvent[] = [];
    const watch = await simulated.watch(configmaps, 'default', { allowWatchBookmarks: true, sendInitialEvents: true }, { event: (e) => events.push(e), close: () => undefined });
    const initialEnd = events.find((e) => e.type === 'BOOKMARK');
    expect(initialEnd?.object).toMatchObject({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } });
    const created = await objects.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bm' } });
    await waitUntil('the create event', () => events.some((e) => e.type === 'ADDED' && (e.object as KubeObject).metadata.name === 'bm'), { timeoutMs: 10_000 });
    const bookmarksBefore = events.filter((e) => e.type === 'BOOKMARK').length;
    clock.advance(4_999);
    expect(events.filter((e) => e.type === 'BOOKMARK').length).toBe(bookmarksBefore);
    clock.advance(1);
    const last = events.at(-1);
    watch.stop();
    expect(last?.type).toBe('BOOKMARK');
    expect(last?.object).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { resourceVersion: created.metadata.resourceVersion } });
  });

  it('a create whose store write landed but whose answer was lost is answered with the object (its uid read back), not 504', async () => {
    // The txn applies, then the call fails as a lost reply does: the outcome is unknown to the API.
    const lossy = new Proxy(client, {
      get(target, property, receiver) {
        if (property === 'txn') {
          return async (...args: Parameters<StoreClient['txn']>) => {
            await target.txn(...args);
            throw new OutcomeUnknownError('the reply was lost');
          };
        }
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const store = new ObjectStore(lossy, { clock: new SystemClock() });
    const created = await store.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'landed-anyway' } });
    const stored = await objects.get(configmaps, 'default', 'landed-anyway');
    expect(created.metadata.uid).toBe(stored.metadata.uid);
    expect(created.metadata.resourceVersion).toBe(stored.metadata.resourceVersion);
  });

  it('without quorum a write is answered 503 or 504 within 2 s, and a 503 write never applies', async () => {
    await cluster.killAndWait('s1');
    const started = Date.now();
    const failure = await apiError(objects.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'during-outage' } }));
    const elapsedMs = Date.now() - started;
    expect([503, 504], failure.message).toContain(failure.httpStatus);
    expect(elapsedMs).toBeLessThan(2_000);
    expect(failure.message).toMatch(failure.httpStatus === 503 ? /the write was not applied/ : /may or may not have been applied/);
    await cluster.restart('s1');
    await cluster.waitForLeader({ timeoutMs: 20_000 });
    const after = await waitUntil('reads after the restart', () => objects.list(configmaps, 'default'), { timeoutMs: 20_000 });
    if (failure.httpStatus === 503) expect(after.items.map((c) => c.metadata.name)).not.toContain('during-outage');
  });
});

describe.runIf(runs)('object store under quorum loss (real 3-member store)', () => {
  let cluster: LocalCluster;
  let objects: ObjectStore;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubus-objects-quorum-'));
    cluster = new LocalCluster({ dir, members: 3 });
    await cluster.start();
    await cluster.waitForLeader({ timeoutMs: 20_000 });
    objects = new ObjectStore(await cluster.client(), { clock: new SystemClock(), random: new Prng(11) });
    await objects.ensureDefaults();
  });

  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('with two of three members down every write is answered 503/504 within 2 s, 503s never apply, cached reads answer; writes resume after restart', async () => {
    await objects.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'before' } });
    const [, second, third] = cluster.memberIds as [string, string, string];
    await cluster.killAndWait(second);
    await cluster.killAndWait(third);
    const refused: string[] = [];
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const failure = await apiError(objects.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `lost-${i}` } }));
      expect(Date.now() - started).toBeLessThan(2_000);
      expect([503, 504], failure.message).toContain(failure.httpStatus);
      if (failure.httpStatus === 503) refused.push(`lost-${i}`);
    }
    const cached = await objects.get(configmaps, 'default', 'before', { resourceVersion: '0' });
    expect(cached.metadata.name).toBe('before');
    await cluster.restart(second);
    await cluster.restart(third);
    await cluster.waitForLeader({ timeoutMs: 20_000 });
    // A 504 attempt may have applied: AlreadyExists then also means the write went through.
    await waitUntil('a write after the restart', () => objects.create(configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after' } })
      .catch((error: unknown) => { if (error instanceof ApiError && error.httpStatus === 409) return true; throw error; }), { timeoutMs: 20_000 });
    const names = (await objects.list(configmaps, 'default')).items.map((c) => c.metadata.name);
    for (const name of refused) expect(names).not.toContain(name);
    expect(names).toContain('after');
  });
});
