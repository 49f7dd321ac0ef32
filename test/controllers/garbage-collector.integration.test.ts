/**
 * Garbage collection on a 3-member cluster of real processes (the controller manager runs in the
 * member holding its Lease), with ConfigMaps owning ConfigMaps so the suite needs no other
 * controller: each propagation policy's exact end state, and dangling owners collected.
 *
 * - Background: the owner is gone at once; its dependents follow; a dependent with a second, live
 *   owner only loses the reference to the deleted one.
 * - Foreground: the owner stays (deletionTimestamp + `foregroundDeletion`) while a dependent that
 *   blocks owner deletion exists; the non-blocking one is deleted too; the owner goes once the
 *   blocking one is.
 * - Orphan: the owner carries `orphan` until the collector has removed its ownerReference from
 *   every dependent; the dependents stay, keeping their other owners.
 * - kubectl's `--cascade=foreground|orphan` send those policies; foreground waits for the owner.
 * - Dangling: references to a uid no object has (never existed; name reused) are collected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAs, startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const ns = 'gc';
const base = `/api/v1/namespaces/${ns}/configmaps`;
const settleMs = 20_000;
/** Tries of one create through store elections (each answers within the API's 2 s write bound). */
const createAttemptsMax = 4;

interface Ref { readonly name: string; readonly uid: string; readonly blockOwnerDeletion?: boolean }

describe.runIf(runs)('garbage collector (3 members)', () => {
  let h: ApiHarness;
  const call = (method: string, path: string, body?: unknown) => callAs(h, method, path, { token: h.token, ...(body !== undefined ? { body } : {}) });

  async function configMap(name: string, owners: readonly Ref[] = [], finalizers: readonly string[] = []): Promise<Ref> {
    const ownerReferences = owners.map((o) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: o.name, uid: o.uid, ...(o.blockOwnerDeletion === true ? { blockOwnerDeletion: true } : {}) }));
    const body = {
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name, ...(ownerReferences.length > 0 ? { ownerReferences } : {}), ...(finalizers.length > 0 ? { finalizers } : {}) },
    };
    // As a careful client: 503 (not applied) and 504 (outcome unknown: a store election on a
    // saturated CI host) are retried; a 409 after a 504 means the first try applied.
    let reply = await call('POST', base, body);
    for (let attempt = 1; attempt < createAttemptsMax && (reply.status === 503 || reply.status === 504); attempt++) {
      const unknown = reply.status === 504;
      reply = await call('POST', base, body);
      if (unknown && reply.status === 409) reply = await get(name);
    }
    expect([200, 201], JSON.stringify(reply.json)).toContain(reply.status);
    return { name, uid: reply.json['metadata'].uid as string };
  }

  const get = (name: string) => call('GET', `${base}/${name}`);
  /** DELETE with DeleteOptions as kubectl sends them (a body with its Content-Length: Node does not frame a DELETE body itself). */
  async function remove(name: string, propagationPolicy: string): Promise<{ status: number; json: Record<string, any> }> {
    const body = JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy });
    const reply = await h.request('DELETE', `${base}/${name}`, {
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) }, body,
    });
    return { status: reply.status, json: JSON.parse(reply.body || '{}') as Record<string, any> };
  }
  const gone = (name: string) => waitUntil(`${name} collected`, async () => (await get(name)).status === 404, { timeoutMs: settleMs });

  beforeAll(async () => {
    h = await startApiHarness();
    expect((await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })).status).toBe(201);
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('Background: the owner goes at once, its dependents after it; a dependent with another live owner only loses the reference', async () => {
    const owner = await configMap('bg-owner');
    const other = await configMap('bg-other');
    await configMap('bg-dep-1', [{ ...owner, blockOwnerDeletion: true }]);
    await configMap('bg-dep-2', [owner]);
    await configMap('bg-shared', [owner, other]);
    const deleted = await remove('bg-owner', 'Background');
    expect(deleted.status, JSON.stringify(deleted.json)).toBe(200);
    expect((await get('bg-owner')).status).toBe(404);
    await gone('bg-dep-1');
    await gone('bg-dep-2');
    const shared = await waitUntil('bg-shared loses the deleted owner', async () => {
      const reply = await get('bg-shared');
      return reply.json['metadata']?.ownerReferences?.length === 1 ? reply.json : null;
    }, { timeoutMs: settleMs });
    expect(shared['metadata'].ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', name: 'bg-other', uid: other.uid }]);
  });

  it('Foreground: the owner waits (foregroundDeletion) for its blocking dependent, non-blocking ones are deleted too, then it goes', async () => {
    const owner = await configMap('fg-owner');
    await configMap('fg-blocking', [{ ...owner, blockOwnerDeletion: true }], ['example.com/hold']);
    await configMap('fg-loose', [owner]);
    const deleted = await remove('fg-owner', 'Foreground');
    expect(deleted.status, JSON.stringify(deleted.json)).toBe(200);
    expect(deleted.json['metadata'].finalizers).toEqual(['foregroundDeletion']);
    expect(deleted.json['metadata'].deletionTimestamp).toBeDefined();
    await gone('fg-loose');
    const blocking = await waitUntil('fg-blocking marked for deletion', async () => {
      const reply = await get('fg-blocking');
      return reply.json['metadata']?.deletionTimestamp !== undefined ? reply.json : null;
    }, { timeoutMs: settleMs });
    // The blocking dependent is held by its own finalizer: the owner must still be there, waiting.
    const waiting = await get('fg-owner');
    expect(waiting.status).toBe(200);
    expect(waiting.json['metadata'].finalizers).toEqual(['foregroundDeletion']);
    const released = await call('PUT', `${base}/fg-blocking`, { ...blocking, metadata: { ...blocking['metadata'], finalizers: [] } });
    expect(released.status).toBe(200);
    await gone('fg-blocking');
    await gone('fg-owner');
  });

  it('Orphan: the owner holds `orphan` until its dependents no longer name it; they stay with their other owners', async () => {
    const owner = await configMap('or-owner');
    const other = await configMap('or-other');
    await configMap('or-1', [{ ...owner, blockOwnerDeletion: true }]);
    await configMap('or-2', [owner, other]);
    const deleted = await remove('or-owner', 'Orphan');
    expect(deleted.status, JSON.stringify(deleted.json)).toBe(200);
    expect(deleted.json['metadata'].finalizers).toEqual(['orphan']);
    await gone('or-owner');
    const first = await get('or-1');
    expect(first.status).toBe(200);
    expect(first.json['metadata'].ownerReferences).toBeUndefined();
    const second = await get('or-2');
    expect(second.json['metadata'].ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', name: 'or-other', uid: other.uid }]);
  });

  it('kubectl --cascade: foreground returns once the owner is gone, its blocking dependent already gone; orphan leaves the dependent unowned', async () => {
    const fg = await configMap('kc-fg');
    await configMap('kc-fg-dep', [{ ...fg, blockOwnerDeletion: true }]);
    const foreground = await h.kubectl(['delete', 'configmap', 'kc-fg', '-n', ns, '--cascade=foreground']);
    expect(foreground.code, foreground.stderr).toBe(0);
    expect(foreground.stdout.trim()).toBe('configmap "kc-fg" deleted');
    expect((await get('kc-fg')).status).toBe(404);
    expect((await get('kc-fg-dep')).status).toBe(404);
    const orphaning = await configMap('kc-or');
    await configMap('kc-or-dep', [orphaning]);
    const orphan = await h.kubectl(['delete', 'configmap', 'kc-or', '-n', ns, '--cascade=orphan']);
    expect(orphan.code, orphan.stderr).toBe(0);
    await gone('kc-or');
    const kept = await get('kc-or-dep');
    expect(kept.status).toBe(200);
    expect(kept.json['metadata'].ownerReferences).toBeUndefined();
  });

  it('Background at scale: 200 dependents of one owner are all collected, an unowned sibling stays (time printed)', async () => {
    const owner = await configMap('many-owner');
    await configMap('many-sibling');
    const count = 200;
    // Ten creates at a time: the suite shares two cores with the cluster it tests.
    for (let i = 0; i < count; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => configMap(`many-${i + j}`, [{ ...owner, blockOwnerDeletion: true }])));
    }
    const listed = async (): Promise<string[]> => ((await call('GET', base)).json['items'] as { metadata: { name: string } }[])
      .map((o) => o.metadata.name).filter((n) => n.startsWith('many-'));
    expect((await listed()).length).toBe(count + 2);
    const started = Date.now();
    expect((await remove('many-owner', 'Background')).status).toBe(200);
    await waitUntil('all 200 dependents collected', async () => (await listed()).length === 1, { timeoutMs: settleMs, intervalMs: 20 });
    console.log(`garbage collector: ${count} dependents of a deleted owner collected in ${Date.now() - started} ms`);
    expect(await listed()).toEqual(['many-sibling']);
  });

  it('dangling owners: a reference to a uid no object has is collected (verified live), a live owner keeps its dependent', async () => {
    const live = await configMap('dg-live');
    await configMap('dg-kept', [live]);
    await configMap('dg-ghost', [{ name: 'never-existed', uid: '00000000-0000-4000-8000-000000000000' }]);
    // The owner's name exists, with another uid: the object it named was deleted and the name reused.
    await configMap('dg-reused', [{ name: 'dg-live', uid: '00000000-0000-4000-8000-000000000001' }]);
    await gone('dg-ghost');
    await gone('dg-reused');
    const kept = await get('dg-kept');
    expect(kept.status).toBe(200);
    expect(kept.json['metadata'].ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', name: 'dg-live', uid: live.uid }]);
  });
});
