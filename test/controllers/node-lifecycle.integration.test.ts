/**
 * Node lifecycle on a 3-member cluster of real processes (controller manager and scheduler active
 * where they hold their Leases), with hollow Nodes whose Leases the test renews every second and
 * a node monitor grace period of 3 s (`--node-monitor-grace-period 3s`). The test plays the
 * kubelet: it renews Leases, posts Ready, and marks pods ready.
 *
 * - A Node whose Lease stops being renewed: Ready (and the pressure conditions) Unknown with
 *   Kubernetes' reason and message, and both `unreachable` taints (NoSchedule, NoExecute with
 *   timeAdded), within the grace period plus one renew interval of the renewals stopping, and
 *   not before the grace period from the last renewal; its pods get Ready=False. A ReplicaSet's
 *   pods tolerating `unreachable` for 2 s are evicted 2 s after the taint, not before, and
 *   replaced on other Nodes; a pod tolerating it forever stays. Renewing again and posting Ready=True (what a
 *   kubelet does) removes both taints and the Node stays Ready.
 * - An untolerated NoExecute taint set by hand evicts at once, with a TaintManagerEviction
 *   Event; a tolerating pod stays; the taint is left as the user set it.
 * - Pod GC: the pods of a deleted Node are deleted; a pod bound to a Node that never existed is
 *   deleted after the quarantine (`--pod-gc-quarantine-period 3s`), not before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Event, Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { getCondition } from '../../actors/objects/index.js';
import { isNotFound, refs } from '../../actors/controllers/runtime/index.js';
import { startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi, createHollowNodes, markPodsReady, startNodeLeaseRenewer, type NodeLeaseRenewer } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const ns = 'default';
const graceMs = 3_000;
const renewEveryMs = 1_000;
const quarantineMs = 3_000;
const unreachable = 'node.kubernetes.io/unreachable';

describe.runIf(runs)('node lifecycle, taint eviction and pod GC', () => {
  let h: ApiHarness;
  let nodes: string[];
  let renewer: NodeLeaseRenewer;

  beforeAll(async () => {
    h = await startApiHarness({
      serverArgs: ['--node-monitor-grace-period', `${graceMs / 1000}s`, '--node-monitor-period', '1s', '--pod-gc-quarantine-period', `${quarantineMs / 1000}s`],
    });
    nodes = await createHollowNodes(h, 3, { prefix: 'life' });
    renewer = startNodeLeaseRenewer(h, nodes, renewEveryMs);
  });

  afterAll(async () => {
    await renewer?.stop();
    await h?.stop();
  });

  const api = (): ReturnType<typeof adminApi> => adminApi(h);
  const getNode = (name: string): Promise<Node> => api().get<Node>(refs.nodes, undefined, name);
  const podsOf = async (selector: string): Promise<Pod[]> => (await api().list<Pod>(refs.pods, { namespace: ns, labelSelector: selector })).items;
  const exists = (name: string): Promise<boolean> => api().get(refs.pods, ns, name).then(() => true, (e: unknown) => (isNotFound(e) ? false : Promise.reject(e)));

  async function createPod(name: string, spec: Partial<NonNullable<Pod['spec']>>): Promise<void> {
    await api().create(refs.pods, ns, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { test: name } },
      spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
    });
  }

  it('a Node whose Lease stops: Unknown and tainted within grace + one renewal, pods not ready, 2 s tolerations evicted and replaced, recovery removes the taints', async () => {
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'tol2', namespace: ns },
      spec: {
        replicas: 3, selector: { matchLabels: { app: 'tol2' } },
        template: {
          metadata: { labels: { app: 'tol2' } },
          spec: {
            containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }],
            tolerations: [
              { key: unreachable, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
              { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
            ],
          },
        },
      },
    };
    await api().create(refs.replicasets, ns, rs);
    const bound = await waitUntil('3 bound tol2 pods', async () => {
      const pods = (await podsOf('app=tol2')).filter((p) => p.spec?.nodeName !== undefined);
      return pods.length === 3 ? pods : null;
    }, { timeoutMs: 20_000 });
    await markPodsReady(h, ns, 'app=tol2');
    const victim = bound[0]?.spec?.nodeName as string;
    const victimPods = bound.filter((p) => p.spec?.nodeName === victim).map((p) => p.metadata?.name as string);
    await createPod('forever', { nodeName: victim, tolerations: [{ operator: 'Exists' }] });
    await markPodsReady(h, ns, 'test=forever');

    renewer.pause(victim);
    const pausedAt = Date.now();
    // Watch Ready and the taints until both taints are there.
    let unknownAt = 0;
    const down = await waitUntil('Ready Unknown and both unreachable taints', async () => {
      const node = await getNode(victim);
      const ready = getCondition(node.status?.conditions, 'Ready');
      if (ready?.status === 'Unknown' && unknownAt === 0) unknownAt = Date.now();
      const taints = node.spec?.taints ?? [];
      return ready?.status === 'Unknown' && taints.some((t) => t.key === unreachable && t.effect === 'NoSchedule') && taints.some((t) => t.key === unreachable && t.effect === 'NoExecute') ? node : null;
    }, { timeoutMs: 10_000, intervalMs: 25 });
    const taintedAt = Date.now();
    // Not Unknown before the grace period from the last renewal (the Lease's renewTime, written
    // with this process's clock); tainted within the grace period plus one renew interval of the
    // renewals stopping (the last one came at most one interval before).
    const lease = await api().get<Lease>(refs.leases, 'kube-node-lease', victim);
    const lastRenewMs = Date.parse(lease.spec?.renewTime as string);
    expect(unknownAt - lastRenewMs).toBeGreaterThanOrEqual(graceMs);
    expect(taintedAt - pausedAt).toBeLessThanOrEqual(graceMs + renewEveryMs);
    for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      const condition = getCondition(down.status?.conditions, type);
      expect(condition?.status).toBe('Unknown');
    }
    const ready = getCondition(down.status?.conditions, 'Ready');
    expect([ready?.reason, ready?.message]).toEqual(['NodeStatusUnknown', 'Kubelet stopped posting node status.']);
    const noExecute = (down.spec?.taints ?? []).find((t) => t.key === unreachable && t.effect === 'NoExecute') as Taint;
    expect(typeof noExecute.timeAdded).toBe('string');

    // Pods on the silent Node are not ready any more (the one that stays shows it).
    const forever = await waitUntil('forever pod Ready=False', async () => {
      const pod = await api().get<Pod>(refs.pods, ns, 'forever');
      return getCondition(pod.status?.conditions, 'Ready')?.status === 'False' ? pod : null;
    }, { timeoutMs: 5_000 });
    expect(forever.spec?.nodeName).toBe(victim);

    // The 2 s tolerations run out: evicted, counted from timeAdded (second precision).
    const taintAddedMs = Date.parse(noExecute.timeAdded as string);
    await waitUntil('the victim node\'s tol2 pods deleted', async () => {
      for (const name of victimPods) if (await exists(name)) return false;
      return true;
    }, { timeoutMs: 8_000, intervalMs: 50 });
    const evictedAt = Date.now();
    // Not early: the toleration ran from when the taint was set (this test saw it at most one
    // poll later); not late by more than timeAdded's second of precision and some latency.
    expect(evictedAt - taintedAt).toBeGreaterThanOrEqual(2_000 - 200);
    expect(evictedAt - taintAddedMs).toBeGreaterThanOrEqual(2_000);
    expect(evictedAt - taintedAt).toBeLessThanOrEqual(2_000 + 1_500);
    const events = (await api().list<Event>(refs.events, { namespace: ns })).items;
    for (const name of victimPods) {
      expect(events.some((e) => e.reason === 'TaintManagerEviction' && e.involvedObject.name === name && e.message === `Marking for deletion Pod ${ns}/${name}`)).toBe(true);
    }
    // Replaced on the other Nodes (the silent one has a NoSchedule taint they do not tolerate).
    const replaced = await waitUntil('3 tol2 pods bound again, none on the silent node', async () => {
      const pods = (await podsOf('app=tol2')).filter((p) => p.metadata?.deletionTimestamp === undefined);
      return pods.length === 3 && pods.every((p) => p.spec?.nodeName !== undefined) ? pods : null;
    }, { timeoutMs: 15_000 });
    expect(replaced.filter((p) => p.spec?.nodeName === victim)).toEqual([]);
    expect(await exists('forever')).toBe(true);

    // The kubelet is back: Lease renewed, Ready=True posted with a new heartbeat.
    renewer.resume(victim);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const fresh = await getNode(victim);
    const conditions = (fresh.status?.conditions ?? []).map((c) => (c.type === 'Ready'
      ? { ...c, status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }
      : { ...c, status: 'False', lastHeartbeatTime: now, lastTransitionTime: now }));
    await api().update(refs.nodes, undefined, victim, { ...fresh, status: { ...fresh.status, conditions } }, { subresource: 'status' });
    const recovered = await waitUntil('no unreachable taint', async () => {
      const node = await getNode(victim);
      return (node.spec?.taints ?? []).some((t) => t.key === unreachable) ? null : node;
    }, { timeoutMs: 5_000 });
    expect(getCondition(recovered.status?.conditions, 'Ready')?.status).toBe('True');
    expect(recovered.spec?.taints ?? []).toEqual([]);
    // Still Ready a grace period later: the renewals keep it alive.
    await waitUntil('one grace period after recovery', () => Date.now() - taintedAt > graceMs * 2, { timeoutMs: 10_000 });
    const later = await getNode(victim);
    expect([getCondition(later.status?.conditions, 'Ready')?.status, later.spec?.taints ?? []]).toEqual(['True', []]);
    await api().delete(refs.replicasets, ns, 'tol2');
    await api().delete(refs.pods, ns, 'forever');
  });

  it('an untolerated NoExecute taint evicts at once; a tolerating pod stays; the user\'s taint stays as set', async () => {
    const node = nodes[1] as string;
    await createPod('plain', { nodeName: node });
    await createPod('tolerant', { nodeName: node, tolerations: [{ key: 'example.com/maintenance', operator: 'Exists', effect: 'NoExecute' }] });
    const current = await getNode(node);
    const taint: Taint = { key: 'example.com/maintenance', value: 'now', effect: 'NoExecute' };
    await api().update(refs.nodes, undefined, node, { ...current, spec: { ...current.spec, taints: [...(current.spec?.taints ?? []), taint] } });
    const setAt = Date.now();
    await waitUntil('plain pod evicted', async () => !(await exists('plain')), { timeoutMs: 5_000, intervalMs: 25 });
    expect(Date.now() - setAt).toBeLessThan(2_000);
    const events = (await api().list<Event>(refs.events, { namespace: ns })).items;
    expect(events.some((e) => e.reason === 'TaintManagerEviction' && e.involvedObject.name === 'plain' && e.message === `Marking for deletion Pod ${ns}/plain`)).toBe(true);
    expect(await exists('tolerant')).toBe(true);
    expect((await getNode(node)).spec?.taints).toEqual([taint]);
    const tainted = await getNode(node);
    await api().update(refs.nodes, undefined, node, { ...tainted, spec: { ...tainted.spec, taints: [] } });
    await api().delete(refs.pods, ns, 'tolerant');
  });

  it('pod GC: the pods of a deleted Node go at once; a pod bound to a Node that never existed goes after the quarantine', async () => {
    const [doomed] = await createHollowNodes(h, 1, { prefix: 'doomed' });
    await createPod('on-doomed', { nodeName: doomed as string });
    await createPod('on-ghost', { nodeName: 'ghost-node' });
    const ghostCreatedAt = Date.now();
    await api().delete(refs.nodes, undefined, doomed as string);
    const deletedAt = Date.now();
    await waitUntil('the deleted node\'s pod deleted', async () => !(await exists('on-doomed')), { timeoutMs: 5_000, intervalMs: 25 });
    expect(Date.now() - deletedAt).toBeLessThan(2_000);
    // Still quarantined a little before the quarantine ends.
    await waitUntil('most of the quarantine', () => Date.now() - ghostCreatedAt > quarantineMs - 1_000, { timeoutMs: 5_000 });
    expect(await exists('on-ghost')).toBe(true);
    await waitUntil('the ghost node\'s pod deleted', async () => !(await exists('on-ghost')), { timeoutMs: quarantineMs + 5_000, intervalMs: 50 });
    expect(Date.now() - ghostCreatedAt).toBeGreaterThanOrEqual(quarantineMs - 1_000);
  });
});
