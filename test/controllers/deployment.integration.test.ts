/**
 * Deployments on a 3-member cluster of real processes (controller manager and scheduler in the
 * members holding their Leases), 3 hollow Nodes, and the real kubectl 1.32 driving every rollout
 * command. The test plays the kubelet: it marks bound pods Running and Ready.
 *
 * - 5 replicas: one ReplicaSet and 5 pods appear, each bound to one of the nodes (all fit);
 *   `kubectl rollout status` completes once the pods are ready.
 * - A template change (`kubectl set image`) rolls within maxSurge 1 / maxUnavailable 1 at EVERY
 *   moment of a pod watch recorded from before the change: ready pods >= 4, pods <= 6.
 * - `kubectl rollout history` lists both revisions; `kubectl rollout undo` brings the first
 *   template back (its ReplicaSet reused: revision 3, revision-history 1).
 * - `rollout pause` holds a template change (no new ReplicaSet, Progressing DeploymentPaused);
 *   `rollout resume` rolls it; `rollout restart` rolls a new ReplicaSet with restartedAt.
 * - `kubectl scale --replicas=0` then `=3` converges (pods and status).
 * - Deleting the Deployment leaves no ReplicaSet and no pod (the garbage collector's part).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isPodReady } from '../../actors/objects/index.js';
import { refs } from '../../actors/controllers/runtime/resource-refs.js';
import { startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi, createHollowNodes, markPodsReady, startNodeLeaseRenewer, type NodeLeaseRenewer } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';
import { recordPods } from './pod-history.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const ns = 'rollout';
const replicas = 5;

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: web }
  strategy:
    type: RollingUpdate
    rollingUpdate: { maxSurge: 1, maxUnavailable: 1 }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
      - name: c
        image: nginx:1.25
        resources: { requests: { cpu: 100m, memory: 64Mi } }
`;

describe.runIf(runs)('deployments (3 members, 3 hollow nodes, kubectl rollout)', () => {
  let h: ApiHarness;
  let nodes: string[];
  let renewer: NodeLeaseRenewer;
  let kubelet: NodeJS.Timeout | undefined;
  const api = () => adminApi(h);

  const kubectl = async (...args: string[]): Promise<string> => {
    const result = await h.kubectl(args, { timeoutMs: 90_000 });
    expect(result.code, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  };
  const deployment = () => api().get<Deployment>(refs.deployments, ns, 'web');
  const replicaSets = async () => (await api().list<ReplicaSet>(refs.replicasets, { namespace: ns })).items;
  const pods = async () => (await api().list<Pod>(refs.pods, { namespace: ns })).items;
  const rolledOut = async (): Promise<void> => {
    expect(await kubectl('rollout', 'status', 'deployment/web', '-n', ns, '--timeout=60s')).toContain('deployment "web" successfully rolled out');
  };

  beforeAll(async () => {
    h = await startApiHarness();
    nodes = await createHollowNodes(h, 3, { cpu: '4', memory: '8Gi', pods: '110' });
    renewer = startNodeLeaseRenewer(h, nodes);
    await kubectl('apply', '-f', h.manifest('ns.yaml', `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`));
    await waitUntil('the default ServiceAccount', async () => (await api().get(refs.serviceaccounts, ns, 'default').catch(() => null)) !== null, { timeoutMs: 60_000 });
  });

  afterAll(async () => {
    if (kubelet !== undefined) clearInterval(kubelet);
    await renewer?.stop();
    await h?.stop();
  });

  it('creates a ReplicaSet and 5 pods bound to the nodes; rollout status completes once they are ready', async () => {
    await kubectl('apply', '-f', h.manifest('web.yaml', manifest));
    const sets = await waitUntil('one ReplicaSet', async () => {
      const list = await replicaSets();
      return list.length === 1 ? list : null;
    }, { timeoutMs: 30_000 });
    const rs = sets[0] as ReplicaSet;
    const hash = rs.metadata?.labels?.['pod-template-hash'] ?? '';
    expect(rs.metadata?.name).toBe(`web-${hash}`);
    expect(rs.metadata?.annotations).toMatchObject({
      'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '5', 'deployment.kubernetes.io/max-replicas': '6',
    });
    const bound = await waitUntil('5 pods bound', async () => {
      const list = await pods();
      return list.length === replicas && list.every((p) => (p.spec?.nodeName ?? '') !== '') ? list : null;
    }, { timeoutMs: 30_000 });
    for (const pod of bound) {
      expect(nodes).toContain(pod.spec?.nodeName);
      expect(pod.metadata?.name?.startsWith(`web-${hash}-`)).toBe(true);
      expect(pod.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'ReplicaSet', name: rs.metadata?.name, uid: rs.metadata?.uid, controller: true })]);
    }
    // Not ready yet: rollout status must not claim success.
    const early = await h.kubectl(['rollout', 'status', 'deployment/web', '-n', ns, '--timeout=1s']);
    expect(early.code).not.toBe(0);
    // From here on the test is the kubelet of the hollow nodes.
    kubelet = setInterval(() => void markPodsReady(h, ns, 'app=web').catch(() => undefined), 150);
    await rolledOut();
    const d = await deployment();
    expect(d.status).toMatchObject({ replicas: 5, updatedReplicas: 5, readyReplicas: 5, availableReplicas: 5, observedGeneration: d.metadata?.generation });
    expect(d.status?.conditions?.find((c) => c.type === 'Progressing')?.reason).toBe('NewReplicaSetAvailable');
    expect(d.status?.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');
  });

  it('rolls a template change within maxSurge and maxUnavailable at every watched moment', async () => {
    const history = await recordPods(h, ns);
    await kubectl('set', 'image', 'deployment/web', '-n', ns, 'c=nginx:1.27');
    await rolledOut();
    await waitUntil('5 pods of the new template', async () => {
      const list = await pods();
      return list.length === replicas && list.every((p) => p.spec?.containers[0]?.image === 'nginx:1.27') ? list : null;
    }, { timeoutMs: 30_000 });
    history.stop();
    const state = new Map(history.initial.map((p) => [p.metadata?.name ?? '', p]));
    let minReady = Infinity;
    let maxPods = 0;
    expect(history.events.some((e) => e.type === 'GAP')).toBe(false);
    for (const event of history.events) {
      if (event.type === 'DELETED') state.delete(event.pod.metadata?.name ?? '');
      else state.set(event.pod.metadata?.name ?? '', event.pod);
      const all = [...state.values()];
      const ready = all.filter((p) => isPodReady(p) && p.metadata?.deletionTimestamp === undefined).length;
      minReady = Math.min(minReady, ready);
      maxPods = Math.max(maxPods, all.length);
      expect(ready, `ready pods after event ${history.events.indexOf(event)}`).toBeGreaterThanOrEqual(replicas - 1);
      expect(all.length, `pods after event ${history.events.indexOf(event)}`).toBeLessThanOrEqual(replicas + 1);
    }
    // The rollout really happened in steps: 5 new pods created, 5 old deleted.
    expect(history.events.filter((e) => e.type === 'ADDED').length).toBe(replicas);
    expect(history.events.filter((e) => e.type === 'DELETED').length).toBe(replicas);
    expect({ minReady, maxPods }).toEqual({ minReady: 4, maxPods: 6 });
  });

  it('lists both revisions and `rollout undo` brings the first template back', async () => {
    const history = await kubectl('rollout', 'history', 'deployment/web', '-n', ns);
    expect(history.split('\n').filter((l) => /^\d+\s/.test(l)).map((l) => l.split(/\s+/)[0])).toEqual(['1', '2']);
    const revision2 = await kubectl('rollout', 'history', 'deployment/web', '-n', ns, '--revision=2');
    expect(revision2).toContain('nginx:1.27');
    expect(await kubectl('rollout', 'undo', 'deployment/web', '-n', ns)).toContain('rolled back');
    await rolledOut();
    const d = await deployment();
    expect(d.spec?.template.spec?.containers[0]?.image).toBe('nginx:1.25');
    expect(d.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    const sets = await replicaSets();
    expect(sets.length, JSON.stringify([d.spec?.template, ...sets.map((rs) => rs.spec?.template)])).toBe(2);
    const reused = sets.find((rs) => rs.spec?.template?.spec?.containers[0]?.image === 'nginx:1.25');
    expect(reused?.metadata?.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' });
    expect(reused?.spec?.replicas).toBe(5);
    expect(sets.find((rs) => rs !== reused)?.spec?.replicas).toBe(0);
  });

  it('pause holds a template change, resume rolls it, restart rolls a new ReplicaSet', async () => {
    await kubectl('rollout', 'pause', 'deployment/web', '-n', ns);
    await kubectl('set', 'image', 'deployment/web', '-n', ns, 'c=nginx:1.28');
    const paused = await waitUntil('the paused Deployment observed', async () => {
      const d = await deployment();
      const progressing = d.status?.conditions?.find((c) => c.type === 'Progressing');
      return d.status?.observedGeneration === d.metadata?.generation && progressing?.reason === 'DeploymentPaused' ? d : null;
    }, { timeoutMs: 30_000 });
    expect(paused.status?.conditions?.find((c) => c.type === 'Progressing')?.status).toBe('Unknown');
    expect((await replicaSets()).length).toBe(2);
    expect((await pods()).every((p) => p.spec?.containers[0]?.image === 'nginx:1.25')).toBe(true);
    await kubectl('rollout', 'resume', 'deployment/web', '-n', ns);
    await rolledOut();
    expect((await replicaSets()).map((rs) => rs.spec?.template?.spec?.containers[0]?.image).sort()).toEqual(['nginx:1.25', 'nginx:1.27', 'nginx:1.28']);
    await kubectl('rollout', 'restart', 'deployment/web', '-n', ns);
    await rolledOut();
    const sets = await replicaSets();
    const current = sets.find((rs) => (rs.spec?.replicas ?? 0) > 0);
    expect(current?.spec?.template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeDefined();
    expect(current?.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('5');
    expect(sets.length).toBe(4);
  });

  it('`kubectl scale --replicas=0` then `=3` converges', async () => {
    await kubectl('scale', 'deployment/web', '-n', ns, '--replicas=0');
    await waitUntil('no pods and status 0', async () => {
      const d = await deployment();
      return (await pods()).length === 0 && d.status?.replicas === 0 && d.status.observedGeneration === d.metadata?.generation;
    }, { timeoutMs: 30_000 });
    await kubectl('scale', 'deployment/web', '-n', ns, '--replicas=3');
    await rolledOut();
    const d = await deployment();
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect((await pods()).length).toBe(3);
  });

  it('deleting the Deployment leaves nothing', async () => {
    await kubectl('delete', 'deployment/web', '-n', ns);
    await waitUntil('no ReplicaSets and no pods', async () => (await replicaSets()).length === 0 && (await pods()).length === 0, { timeoutMs: 30_000 });
  });
});
