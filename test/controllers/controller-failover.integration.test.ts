/**
 * The controller manager fails over in the middle of a scale-up without losing or doubling pods.
 * A Deployment on a 3-member cluster scales from 0 to 50; when the 5th pod appears the test kills
 * -9 the member holding `kube-system/kube-controller-manager`. Another member takes the Lease and
 * finishes. Checked on a pod watch recorded from before the scale and on the settled state:
 * exactly 50 pods were ever created and none deleted (no duplicate from a stale view, nothing
 * cleaned up after the fact), and every pod is controlled by the Deployment's one ReplicaSet.
 *
 * After the kill every read goes over HTTPS to a member still alive, so no request of the test
 * waits on the dead one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { controllerOf } from '../../actors/objects/index.js';
import { refs } from '../../actors/controllers/runtime/resource-refs.js';
import { startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi, memberOfIdentity, waitForLeaseHolder } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';
import { recordPods } from './pod-history.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const ns = 'failover';
const target = 50;
const leasePath = '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager';

describe.runIf(runs)('controller manager failover during a scale-up (3 members)', () => {
  let h: ApiHarness;
  const api = () => adminApi(h);

  /** GET over HTTPS from one member; null on any failure. */
  async function getFrom<T>(member: string, path: string): Promise<T | null> {
    const reply = await h.request('GET', path, { member, headers: { Accept: 'application/json' } }).catch(() => null);
    return reply?.status === 200 ? JSON.parse(reply.body) as T : null;
  }

  beforeAll(async () => {
    h = await startApiHarness();
    await api().create(refs.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await waitUntil('the default ServiceAccount', async () => (await api().get(refs.serviceaccounts, ns, 'default').catch(() => null)) !== null, { timeoutMs: 60_000 });
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('kill -9 of the Lease holder mid-scale: another member finishes with exactly 50 pods, all owned by the current ReplicaSet', async () => {
    await api().create(refs.deployments, ns, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'big', namespace: ns },
      spec: {
        replicas: 0, selector: { matchLabels: { app: 'big' } },
        template: { metadata: { labels: { app: 'big' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } },
      },
    });
    const rs = await waitUntil('the ReplicaSet', async () => {
      const { items } = await api().list<ReplicaSet>(refs.replicasets, { namespace: ns });
      return items.length === 1 ? items[0] : null;
    }, { timeoutMs: 30_000 });
    // Whom to kill: the holder as last seen (read every 100 ms until the kill).
    let holder = await waitForLeaseHolder(h, 'kube-controller-manager');
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const lease = await api().get<Lease>(refs.leases, 'kube-system', 'kube-controller-manager').catch(() => null);
        if (polling && (lease?.spec?.holderIdentity ?? '') !== '') holder = lease?.spec?.holderIdentity as string;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    let victim = '';
    let killedHolder = '';
    const history = await recordPods(h, ns, (event, events) => {
      if (event.type !== 'ADDED' || victim !== '' || events.filter((e) => e.type === 'ADDED').length !== 5) return;
      polling = false;
      killedHolder = holder;
      victim = memberOfIdentity(holder);
      h.cluster.kill(victim);
    });
    await api().patch(refs.deployments, ns, 'big', { spec: { replicas: target } }, 'merge');
    await waitUntil('the 5th pod (and the kill)', () => victim !== '', { timeoutMs: 30_000 }).catch(async (error: unknown) => {
      const { items } = await api().list<Pod>(refs.pods, { namespace: ns });
      const current = await api().get<ReplicaSet>(refs.replicasets, ns, rs.metadata?.name ?? '');
      throw new Error(`${String(error)}: ${items.length} pods listed, ${history.events.length} watched, rs ${JSON.stringify(current.spec?.replicas)} ${JSON.stringify(current.status)}`);
    });
    await poll;
    const survivor = h.cluster.memberIds.find((id) => id !== victim) as string;
    const next = await waitUntil('another member holding the Lease', async () => {
      const identity = (await getFrom<Lease>(survivor, leasePath))?.spec?.holderIdentity ?? '';
      return identity !== '' && memberOfIdentity(identity) !== victim ? identity : null;
    }, { timeoutMs: 20_000, intervalMs: 100 });
    expect(next).not.toBe(killedHolder);
    // Settled: the ReplicaSet and the Deployment report 50 from the new leader's view.
    const rsPath = `/apis/apps/v1/namespaces/${ns}/replicasets/${rs.metadata?.name ?? ''}`;
    await waitUntil('50 pods reported by the ReplicaSet and the Deployment', async () => {
      const current = await getFrom<ReplicaSet>(survivor, rsPath);
      const d = await getFrom<Deployment>(survivor, `/apis/apps/v1/namespaces/${ns}/deployments/big`);
      return current?.status?.replicas === target && current.status.observedGeneration === current.metadata?.generation &&
        d?.status?.replicas === target && d.status.observedGeneration === d.metadata?.generation;
    }, { timeoutMs: 40_000 }).catch(async (error: unknown) => {
      const current = await getFrom<ReplicaSet>(survivor, rsPath);
      const d = await getFrom<Deployment>(survivor, `/apis/apps/v1/namespaces/${ns}/deployments/big`);
      const count = (await getFrom<{ items: Pod[] }>(survivor, `/api/v1/namespaces/${ns}/pods`))?.items.length;
      throw new Error(`${String(error)}: pods ${count}, rs ${JSON.stringify(current?.spec)} ${JSON.stringify(current?.status)} ${current?.metadata?.generation}, d ${JSON.stringify(d?.status)}`);
    });
    const pods = (await getFrom<{ items: Pod[] }>(survivor, `/api/v1/namespaces/${ns}/pods`))?.items ?? [];
    // The watch has seen at least as far as the list.
    await waitUntil('the watch caught up', () => history.events.filter((e) => e.type === 'ADDED').length >= pods.length, { timeoutMs: 20_000 });
    history.stop();
    expect(pods.length).toBe(target);
    expect(pods.filter((p) => controllerOf(p)?.uid !== rs.metadata?.uid).map((p) => p.metadata?.name)).toEqual([]);
    const sets = (await getFrom<{ items: ReplicaSet[] }>(survivor, `/apis/apps/v1/namespaces/${ns}/replicasets`))?.items ?? [];
    expect(sets.map((s) => s.metadata?.uid)).toEqual([rs.metadata?.uid]);
    expect(history.events.some((e) => e.type === 'GAP')).toBe(false);
    expect(history.events.filter((e) => e.type === 'ADDED').length).toBe(target);
    expect(history.events.filter((e) => e.type === 'DELETED').length).toBe(0);
  });
});
