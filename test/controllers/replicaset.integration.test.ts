/**
 * ReplicaSets on a 3-member cluster of real processes (no nodes: pods stay unscheduled, which the
 * controller does not care about). What a user can see of the controller's rules:
 *
 * - An orphan pod the selector matches is adopted (ownerReference with the ReplicaSet's uid), so
 *   only the missing pods are created, from the template with generateName `<rs>-`; the status
 *   counts them (replicas, fullyLabeledReplicas, observedGeneration).
 * - A pod relabelled out of the selector is released (ownerReference removed) and replaced.
 * - Scaling down deletes not-ready pods before the ready one.
 * - A quota that refuses pods: the ReplicaSet creates what fits, reports ReplicaFailure
 *   (FailedCreate, the quota message), and clears it once the quota is raised and it converges.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { controllerOf, isPodActive } from '../../actors/objects/index.js';
import { refs } from '../../actors/controllers/runtime/resource-refs.js';
import { startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const ns = 'rs';
const quotaNs = 'rs-quota';

function replicaSet(name: string, namespace: string, replicas: number): ReplicaSet {
  return {
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name, namespace },
    spec: {
      replicas, selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, tier: 'x' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } },
    },
  } as ReplicaSet;
}

describe.runIf(runs)('replicasets (3 members)', () => {
  let h: ApiHarness;
  const api = () => adminApi(h);
  const pods = async (namespace: string, app: string) => (await api().list<Pod>(refs.pods, { namespace, labelSelector: `app=${app}` })).items.filter((p) => isPodActive(p));
  const allPods = async (namespace: string) => (await api().list<Pod>(refs.pods, { namespace })).items;
  const getRs = (namespace: string, name: string) => api().get<ReplicaSet>(refs.replicasets, namespace, name);

  beforeAll(async () => {
    h = await startApiHarness();
    for (const name of [ns, quotaNs]) {
      await api().create(refs.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      await waitUntil(`the default ServiceAccount of ${name}`, async () => (await api().get(refs.serviceaccounts, name, 'default').catch(() => null)) !== null, { timeoutMs: 60_000 });
    }
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('adopts a matching orphan, creates only the missing pods, and counts them in status', async () => {
    await api().create(refs.pods, ns, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } });
    const rs = await api().create<ReplicaSet>(refs.replicasets, ns, replicaSet('web', ns, 3));
    const settled = await waitUntil('3 pods counted', async () => {
      const current = await getRs(ns, 'web');
      return current.status?.replicas === 3 && current.status.observedGeneration === current.metadata?.generation ? current : null;
    }, { timeoutMs: 30_000 });
    const list = await allPods(ns);
    expect(list.length).toBe(3);
    for (const pod of list) expect(controllerOf(pod)).toMatchObject({ kind: 'ReplicaSet', name: 'web', uid: rs.metadata?.uid, controller: true });
    const created = list.filter((p) => p.metadata?.name !== 'orphan');
    expect(created.every((p) => p.metadata?.generateName === 'web-' && p.metadata?.name?.startsWith('web-'))).toBe(true);
    expect(created.every((p) => p.metadata?.labels?.['tier'] === 'x')).toBe(true);
    // The adopted orphan lacks the template's tier label: 2 of 3 are fully labeled.
    expect(settled.status).toMatchObject({ replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 0, availableReplicas: 0 });
  });

  it('releases a pod relabelled out of the selector and replaces it', async () => {
    await api().patch(refs.pods, ns, 'orphan', { metadata: { labels: { app: 'gone' } } }, 'merge');
    await waitUntil('the orphan released and replaced', async () => {
      const released = await api().get<Pod>(refs.pods, ns, 'orphan');
      return controllerOf(released) === undefined && (await pods(ns, 'web')).length === 3;
    }, { timeoutMs: 30_000 });
    expect((await pods(ns, 'web')).every((p) => controllerOf(p)?.name === 'web')).toBe(true);
  });

  it('scales down not-ready pods before the ready one', async () => {
    const [keeper] = await pods(ns, 'web');
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    await api().update(refs.pods, ns, keeper?.metadata?.name ?? '', {
      ...keeper, status: { ...keeper?.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] },
    }, { subresource: 'status' });
    await waitUntil('the ready pod counted', async () => (await getRs(ns, 'web')).status?.readyReplicas === 1, { timeoutMs: 30_000 });
    await api().patch(refs.replicasets, ns, 'web', { spec: { replicas: 1 } }, 'merge');
    const left = await waitUntil('one pod left', async () => {
      const list = await pods(ns, 'web');
      return list.length === 1 ? list : null;
    }, { timeoutMs: 30_000 });
    expect(left.map((p) => p.metadata?.name)).toEqual([keeper?.metadata?.name]);
  });

  it('reports ReplicaFailure when a quota refuses pods, and clears it once they fit', async () => {
    await api().create(refs.resourcequotas, quotaNs, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'pods' }, spec: { hard: { pods: '2' } } });
    await waitUntil('the quota status', async () => (await api().get<{ status?: { hard?: Record<string, string> } }>(refs.resourcequotas, quotaNs, 'pods')).status?.hard?.['pods'] === '2', { timeoutMs: 30_000 });
    await api().create(refs.replicasets, quotaNs, replicaSet('capped', quotaNs, 4));
    const failed = await waitUntil('ReplicaFailure', async () => {
      const current = await getRs(quotaNs, 'capped');
      return current.status?.conditions?.find((c) => c.type === 'ReplicaFailure') !== undefined ? current : null;
    }, { timeoutMs: 30_000 });
    const condition = failed.status?.conditions?.find((c) => c.type === 'ReplicaFailure');
    expect(condition).toMatchObject({ status: 'True', reason: 'FailedCreate' });
    expect(condition?.message).toMatch(/exceeded quota/);
    expect((await pods(quotaNs, 'capped')).length).toBe(2);
    await api().patch(refs.resourcequotas, quotaNs, 'pods', { spec: { hard: { pods: '10' } } }, 'merge');
    await waitUntil('4 pods and no ReplicaFailure', async () => {
      const current = await getRs(quotaNs, 'capped');
      return current.status?.replicas === 4 && current.status.conditions === undefined;
    }, { timeoutMs: 60_000 });
    expect((await pods(quotaNs, 'capped')).length).toBe(4);
  });
});
