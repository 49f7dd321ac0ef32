/**
 * The cloud controller manager with the `sim` provider on a 3-member cluster of real processes
 * (`--cloud-provider sim --cloud-config <file>`, leader-elected in every member), with three
 * hollow Nodes whose Leases the test renews (it plays the kubelets) and whose instances the file
 * scripts. The test plays the chaos runner: it rewrites the file.
 *
 * - The cloud-node controller gives each Node its providerID and the zone/region/instance-type labels.
 * - An instance terminated (file rewritten) while its Node stops renewing: the Node is deleted and
 *   the Deployment's pods that ran on it are replaced on the other Nodes.
 * - With the cloud API failing every call, a LoadBalancer Service gets a SyncLoadBalancerFailed
 *   Event and no status; then failing half the calls (failureRate 0.5), it still gets
 *   status.loadBalancer.ingress from the pool, and its deletion still completes (the
 *   finalizer is removed only after the balancer is).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Event, Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNotFound, refs } from '../../actors/controllers/runtime/index.js';
import { SimCloudFile } from '../../actors/cloud/providers/index.js';
import { startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi, createHollowNodes, markPodsReady, startNodeLeaseRenewer, type NodeLeaseRenewer } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const ns = 'default';
const pool = '127.99.6.0/29';
const nodeNames = ['sim-1', 'sim-2', 'sim-3'];


describe.runIf(runs)('sim cloud provider under the cloud controller manager', () => {
  let h: ApiHarness;
  let dir: string;
  let cloud: SimCloudFile;
  let renewer: NodeLeaseRenewer;
  const api = (): ReturnType<typeof adminApi> => adminApi(h);
  const getNode = (name: string): Promise<Node | null> => api().get<Node>(refs.nodes, undefined, name).catch((e: unknown) => (isNotFound(e) ? null : Promise.reject(e)));
  const podsOf = async (selector: string): Promise<Pod[]> => (await api().list<Pod>(refs.pods, { namespace: ns, labelSelector: selector })).items;

  beforeAll(async () => {
    // The cloud file must exist before the members start (they read it at start), so it has its own dir.
    dir = mkdtempSync(join(tmpdir(), 'kubus-sim-cloud-'));
    cloud = new SimCloudFile(join(dir, 'cloud.json'), {
      seed: 12, latencyMs: 5, jitterMs: 5, failureRate: 0, loadBalancerPool: pool,
      instances: nodeNames.map((name, index) => ({ name, zone: `sim-${'abc'[index]}`, region: 'sim-west', instanceType: 'sim.small' })),
    });
    h = await startApiHarness({
      serverArgs: [
        '--cloud-provider', 'sim', '--cloud-config', cloud.path,
        '--node-monitor-grace-period', '3s', '--node-monitor-period', '1s', '--pod-gc-quarantine-period', '3s',
      ],
    });
    await createHollowNodes(h, 3, { prefix: 'sim' });
    renewer = startNodeLeaseRenewer(h, nodeNames, 1_000);
  });

  afterAll(async () => {
    await renewer?.stop();
    await h?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('initialises Nodes from their instances: providerID and topology labels', async () => {
    for (const [index, name] of nodeNames.entries()) {
      const node = await waitUntil(`${name} initialised by the cloud`, async () => {
        const found = await getNode(name);
        return found?.spec?.providerID === `sim://${name}` && found.metadata?.labels?.['topology.kubernetes.io/zone'] !== undefined ? found : null;
      }, { timeoutMs: 30_000, intervalMs: 200 });
      expect(node.metadata?.labels).toMatchObject({
        'topology.kubernetes.io/zone': `sim-${'abc'[index]}`, 'topology.kubernetes.io/region': 'sim-west', 'node.kubernetes.io/instance-type': 'sim.small',
      });
    }
  });

  it('an instance terminated: its Node is deleted and its pods are replaced on the other Nodes', async () => {
    const deployment: Deployment = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: ns },
      spec: {
        replicas: 3, selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }] } },
      },
    };
    await api().create(refs.deployments, ns, deployment);
    const bound = await waitUntil('3 bound web pods', async () => {
      const pods = (await podsOf('app=web')).filter((p) => p.spec?.nodeName !== undefined && p.metadata?.deletionTimestamp === undefined);
      return pods.length === 3 ? pods : null;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    await markPodsReady(h, ns, 'app=web');
    const victim = bound[0]?.spec?.nodeName as string;
    const victimPods = new Set(bound.filter((p) => p.spec?.nodeName === victim).map((p) => p.metadata?.uid));

    // The chaos runner's move: the instance is terminated and its kubelet falls silent.
    cloud.setInstanceState(victim, 'terminated');
    renewer.pause(victim);
    await waitUntil(`Node ${victim} deleted`, async () => (await getNode(victim)) === null, { timeoutMs: 30_000, intervalMs: 200 });

    const replaced = await waitUntil('3 web pods bound to the other Nodes', async () => {
      const pods = (await podsOf('app=web')).filter((p) => p.metadata?.deletionTimestamp === undefined);
      return pods.length === 3 && pods.every((p) => p.spec?.nodeName !== undefined && p.spec.nodeName !== victim) ? pods : null;
    }, { timeoutMs: 40_000, intervalMs: 200 });
    expect(replaced.some((p) => victimPods.has(p.metadata?.uid))).toBe(false);
    // The other Nodes are still there: only the terminated instance's Node went.
    for (const name of nodeNames.filter((n) => n !== victim)) expect(await getNode(name)).not.toBeNull();
  });

  it('with half the cloud API calls failing, a LoadBalancer Service still gets its ingress and is deleted cleanly', async () => {
    // First a cloud that fails every call: the Service gets a SyncLoadBalancerFailed Event and no status at all.
    cloud.update({ failureRate: 1 });
    const service: Service = {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'front', namespace: ns },
      spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
    };
    await api().create(refs.services, ns, service);
    await waitUntil('a SyncLoadBalancerFailed Event for front', async () => {
      const { items } = await api().list<Event>(refs.events, { namespace: ns });
      return items.some((e) => e.reason === 'SyncLoadBalancerFailed' && e.involvedObject.name === 'front');
    }, { timeoutMs: 30_000, intervalMs: 200 });
    const failing = await api().get<Service>(refs.services, ns, 'front');
    expect(failing.status?.loadBalancer?.ingress ?? []).toEqual([]);

    // Half the calls fail from here. The new seed restarts the draws: seed 27 at 0.5 draws fail,
    // fail, succeed, fail, succeed (drawCall), so the ensure lands on its third attempt and the
    // delete on its second: the run is the seed's, not luck's, and stays well inside the
    // controller's backoff (500 ms doubling) instead of risking a 30 s-capped tail.
    cloud.update({ failureRate: 0.5, seed: 27 });
    const ready = await waitUntil('front has a load balancer ingress', async () => {
      const found = await api().get<Service>(refs.services, ns, 'front');
      return (found.status?.loadBalancer?.ingress?.length ?? 0) > 0 ? found : null;
    }, { timeoutMs: 45_000, intervalMs: 200 });
    const ingress = ready.status?.loadBalancer?.ingress ?? [];
    expect(ingress).toHaveLength(1);
    expect(ingress[0]?.ip).toMatch(/^127\.99\.6\.[1-6]$/);
    expect(ready.metadata?.finalizers).toContain('service.kubernetes.io/load-balancer-cleanup');
    // It converged through failures at 50 %, not around them: the controller recorded them.
    await waitUntil('a SyncLoadBalancerFailed Event from the 50 % cloud', async () => {
      const { items } = await api().list<Event>(refs.events, { namespace: ns });
      return items.some((e) => e.reason === 'SyncLoadBalancerFailed' && e.involvedObject.name === 'front' && (e.message ?? '').includes('failureRate 0.5'));
    }, { timeoutMs: 10_000, intervalMs: 200 });

    await api().delete(refs.services, ns, 'front');
    await waitUntil('front deleted (balancer released, finalizer removed)', async () =>
      api().get(refs.services, ns, 'front').then(() => false, (e: unknown) => (isNotFound(e) ? true : Promise.reject(e))), { timeoutMs: 45_000, intervalMs: 200 });
  });
});
