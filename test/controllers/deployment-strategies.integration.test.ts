/**
 * The Deployment strategies and progress reporting that the main rollout suite does not cover, on
 * a 3-member cluster with 2 hollow Nodes and the test as the kubelet:
 *
 * - Recreate: on a template change every old pod is gone before the first new pod exists,
 *   checked on the whole watched pod history.
 * - progressDeadlineSeconds: pods that never become ready turn Progressing False
 *   (ProgressDeadlineExceeded) once the deadline passes with no progress, and
 *   `kubectl rollout status` fails saying so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { refs } from '../../actors/controllers/runtime/resource-refs.js';
import { startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi, createHollowNodes, markPodsReady, startNodeLeaseRenewer, type NodeLeaseRenewer } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';
import { recordPods } from './pod-history.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const ns = 'strategies';

function deployment(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } },
      ...spec,
    },
  };
}

describe.runIf(runs)('deployment strategies and progress (3 members, 2 hollow nodes)', () => {
  let h: ApiHarness;
  let renewer: NodeLeaseRenewer;
  let kubelet: NodeJS.Timeout | undefined;
  const api = () => adminApi(h);

  beforeAll(async () => {
    h = await startApiHarness();
    const nodes = await createHollowNodes(h, 2, { cpu: '4', memory: '8Gi', pods: '110' });
    renewer = startNodeLeaseRenewer(h, nodes);
    await api().create(refs.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await waitUntil('the default ServiceAccount', async () => (await api().get(refs.serviceaccounts, ns, 'default').catch(() => null)) !== null, { timeoutMs: 60_000 });
    // The kubelet of the hollow nodes readies only the Recreate suite's pods.
    kubelet = setInterval(() => void markPodsReady(h, ns, 'app=recreate').catch(() => undefined), 150);
  });

  afterAll(async () => {
    if (kubelet !== undefined) clearInterval(kubelet);
    await renewer?.stop();
    await h?.stop();
  });

  it('Recreate removes every old pod before creating a new one', async () => {
    await api().create(refs.deployments, ns, deployment('recreate', { replicas: 3, strategy: { type: 'Recreate' } }));
    await waitUntil('3 ready pods', async () => {
      const d = await api().get<Deployment>(refs.deployments, ns, 'recreate');
      return d.status?.availableReplicas === 3 && d.status.updatedReplicas === 3;
    }, { timeoutMs: 30_000 });
    const history = await recordPods(h, ns);
    await api().patch(refs.deployments, ns, 'recreate', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } } } }, 'strategic');
    await waitUntil('3 new pods available', async () => {
      const d = await api().get<Deployment>(refs.deployments, ns, 'recreate');
      return d.status?.availableReplicas === 3 && d.status.updatedReplicas === 3 && d.status.replicas === 3 && d.status.observedGeneration === d.metadata?.generation;
    }, { timeoutMs: 30_000 });
    history.stop();
    const state = new Map(history.initial.filter((p) => p.metadata?.labels?.['app'] === 'recreate').map((p) => [p.metadata?.name ?? '', p]));
    const image = (p: Pod) => p.spec?.containers[0]?.image;
    for (const [i, event] of history.events.entries()) {
      if (event.pod.metadata?.labels?.['app'] !== 'recreate') continue;
      if (event.type === 'DELETED') state.delete(event.pod.metadata?.name ?? '');
      else state.set(event.pod.metadata?.name ?? '', event.pod);
      const images = new Set([...state.values()].map(image));
      expect(images.size, `old and new pods together after event ${i}`).toBeLessThanOrEqual(1);
    }
    expect(history.events.filter((e) => e.type === 'DELETED').length).toBe(3);
    expect(history.events.filter((e) => e.type === 'ADDED').map((e) => image(e.pod))).toEqual(['nginx:1.27', 'nginx:1.27', 'nginx:1.27']);
  });

  it('reports ProgressDeadlineExceeded when pods never become ready, and rollout status fails', async () => {
    await api().create(refs.deployments, ns, deployment('stuck', { replicas: 2, progressDeadlineSeconds: 3 }));
    const d = await waitUntil('Progressing False', async () => {
      const current = await api().get<Deployment>(refs.deployments, ns, 'stuck');
      return current.status?.conditions?.find((c) => c.type === 'Progressing')?.status === 'False' ? current : null;
    }, { timeoutMs: 30_000 });
    const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
    expect(progressing?.reason).toBe('ProgressDeadlineExceeded');
    expect(progressing?.message).toMatch(/^ReplicaSet "stuck-[a-z0-9]+" has timed out progressing\.$/);
    expect(Date.parse(progressing?.lastTransitionTime ?? '') - Date.parse(d.metadata?.creationTimestamp ?? '')).toBeGreaterThanOrEqual(3000);
    const status = await h.kubectl(['rollout', 'status', 'deployment/stuck', '-n', ns, '--timeout=20s']);
    expect(status.code).not.toBe(0);
    expect(status.stderr).toContain('deployment "stuck" exceeded its progress deadline');
  });
});
