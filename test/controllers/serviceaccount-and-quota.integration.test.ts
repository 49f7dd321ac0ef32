/**
 * Per-namespace defaults and quota status on a 3-member cluster of real processes (the
 * controllers run in the member holding the controller-manager Lease).
 *
 * - A new namespace gets a `default` ServiceAccount and a `kube-root-ca.crt` ConfigMap holding the
 *   cluster CA (the one the harness trusts) with Kubernetes' description; both come back when
 *   deleted, and an edited CA is corrected.
 * - ResourceQuota: a quota created in a namespace that already holds pods gets `status.hard` and
 *   `status.used` without any further create; deleting a pod or a ConfigMap lowers `used` (before
 *   this controller only admission's creates wrote it); a terminal pod stops counting; a
 *   `count/<resource>.<group>` name follows creates and deletes of that resource.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigMap, Pod, ResourceQuota, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';
import { refs, type ApiClient } from '../../actors/controllers/runtime/index.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const settleMs = 30_000;

describe.runIf(runs)('ServiceAccount, root CA and ResourceQuota controllers (3 members)', () => {
  let h: ApiHarness;
  let api: ApiClient;

  const getOrNull = <T>(resource: typeof refs.pods, ns: string, name: string) => api.get<T>(resource, ns, name).catch(() => null);

  beforeAll(async () => {
    h = await startApiHarness();
    api = adminApi(h);
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('a new namespace gets the default ServiceAccount and the root-CA ConfigMap; both come back, the CA is corrected', async () => {
    await api.create(refs.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    const account = await waitUntil('default ServiceAccount', () => getOrNull<ServiceAccount>(refs.serviceaccounts, 'team', 'default'), { timeoutMs: settleMs });
    const ca = await waitUntil('kube-root-ca.crt', () => getOrNull<ConfigMap>(refs.configmaps, 'team', 'kube-root-ca.crt'), { timeoutMs: settleMs });
    expect(ca.data).toEqual({ 'ca.crt': h.caCertPem });
    expect(ca.metadata?.annotations?.['kubernetes.io/description']).toBe('Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal ' +
      'service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.');
    // The namespaces the members create themselves have them too.
    for (const ns of ['default', 'kube-system']) {
      await waitUntil(`default ServiceAccount in ${ns}`, () => getOrNull(refs.serviceaccounts, ns, 'default'), { timeoutMs: settleMs });
      await waitUntil(`kube-root-ca.crt in ${ns}`, () => getOrNull(refs.configmaps, ns, 'kube-root-ca.crt'), { timeoutMs: settleMs });
    }

    await api.delete(refs.serviceaccounts, 'team', 'default');
    const again = await waitUntil('default ServiceAccount recreated', async () => {
      const found = await getOrNull<ServiceAccount>(refs.serviceaccounts, 'team', 'default');
      return found !== null && found.metadata?.uid !== account.metadata?.uid ? found : null;
    }, { timeoutMs: settleMs });
    expect(again.metadata?.name).toBe('default');

    await api.update(refs.configmaps, 'team', 'kube-root-ca.crt', { ...ca, data: { 'ca.crt': 'not the cluster CA' } });
    await waitUntil('CA corrected', async () => (await getOrNull<ConfigMap>(refs.configmaps, 'team', 'kube-root-ca.crt'))?.data?.['ca.crt'] === h.caCertPem, { timeoutMs: settleMs });
    await api.delete(refs.configmaps, 'team', 'kube-root-ca.crt');
    const recreated = await waitUntil('kube-root-ca.crt recreated', () => getOrNull<ConfigMap>(refs.configmaps, 'team', 'kube-root-ca.crt'), { timeoutMs: settleMs });
    expect(recreated.data).toEqual({ 'ca.crt': h.caCertPem });
  });

  const pod = (name: string, cpu: string, memory: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9', resources: { requests: { cpu, memory }, limits: { cpu, memory } } }] },
  });

  async function usedBecomes(ns: string, want: Record<string, string>): Promise<ResourceQuota> {
    let last: unknown;
    try {
      return await waitUntil(`quota used ${JSON.stringify(want)}`, async () => {
        const quota = await api.get<ResourceQuota>(refs.resourcequotas, ns, 'q');
        last = quota.status?.used;
        return JSON.stringify(quota.status?.used ?? {}) === JSON.stringify(want) ? quota : null;
      }, { timeoutMs: settleMs });
    } catch (error) {
      throw new Error(`${(error as Error).message}; last ${JSON.stringify(last)}`);
    }
  }

  it('ResourceQuota: status from existing objects, lowered by deletes and by a pod turning terminal', async () => {
    await api.create(refs.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'quota' } });
    await waitUntil('kube-root-ca.crt in quota', () => getOrNull(refs.configmaps, 'quota', 'kube-root-ca.crt'), { timeoutMs: settleMs });
    await api.create(refs.pods, 'quota', pod('a', '500m', '256Mi'));
    await api.create(refs.pods, 'quota', pod('b', '1', '512Mi'));
    await api.create(refs.configmaps, 'quota', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { k: 'v' } });
    await api.create(refs.resourcequotas, 'quota', {
      apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' },
      spec: { hard: { pods: '10', 'requests.cpu': '4', 'requests.memory': '2Gi', 'limits.cpu': '8', configmaps: '5' } },
    });
    // Nothing is created after the quota: only the controller can have written this.
    const quota = await usedBecomes('quota', { configmaps: '2', 'limits.cpu': '1500m', pods: '2', 'requests.cpu': '1500m', 'requests.memory': '768Mi' });
    expect(quota.status?.hard).toEqual({ pods: '10', 'requests.cpu': '4', 'requests.memory': '2Gi', 'limits.cpu': '8', configmaps: '5' });

    await api.create(refs.pods, 'quota', pod('c', '250m', '256Mi'));
    await usedBecomes('quota', { configmaps: '2', 'limits.cpu': '1750m', pods: '3', 'requests.cpu': '1750m', 'requests.memory': '1Gi' });
    await api.delete(refs.pods, 'quota', 'b');
    await usedBecomes('quota', { configmaps: '2', 'limits.cpu': '750m', pods: '2', 'requests.cpu': '750m', 'requests.memory': '512Mi' });
    await api.delete(refs.configmaps, 'quota', 'settings');
    await usedBecomes('quota', { configmaps: '1', 'limits.cpu': '750m', pods: '2', 'requests.cpu': '750m', 'requests.memory': '512Mi' });

    const c = await api.get<Pod>(refs.pods, 'quota', 'c');
    await api.update(refs.pods, 'quota', 'c', { ...c, status: { ...c.status, phase: 'Succeeded' } }, { subresource: 'status' });
    await usedBecomes('quota', { configmaps: '1', 'limits.cpu': '500m', pods: '1', 'requests.cpu': '500m', 'requests.memory': '256Mi' });
  });

  it('ResourceQuota count/<resource>.<group>: a Lease created and deleted raises and lowers it', async () => {
    await api.create(refs.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'quota-count' } });
    await api.create(refs.resourcequotas, 'quota-count', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { 'count/leases.coordination.k8s.io': '3' } } });
    await usedBecomes('quota-count', { 'count/leases.coordination.k8s.io': '0' });
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec: { holderIdentity: 'me' } };
    await api.create(refs.leases, 'quota-count', { ...lease, metadata: { name: 'one' } });
    await api.create(refs.leases, 'quota-count', { ...lease, metadata: { name: 'two' } });
    await usedBecomes('quota-count', { 'count/leases.coordination.k8s.io': '2' });
    await api.delete(refs.leases, 'quota-count', 'one');
    await usedBecomes('quota-count', { 'count/leases.coordination.k8s.io': '1' });
  });
});
