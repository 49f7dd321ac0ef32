/**
 * @kubernetes/client-node across faults: an informer keeps delivering after every member (store
 * and API; the first is the one the kubeconfig names) has been restarted once (kill -9, one at a
 * time), and status is replaced through the typed client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { startApiHarness, type ApiHarness } from './harness.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

describe.runIf(runs)('client-node across member restarts', () => {
  let h: ApiHarness;

  beforeAll(async () => {
    h = await startApiHarness();
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('an informer keeps seeing changes after each member, the one it talks to included, is killed and restarted', async () => {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(h.kubeconfigPath);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const seen = new Set<string>();
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    informer.on('add', (o) => seen.add(o.metadata?.name ?? ''));
    informer.on('error', () => {
      // client-node reports a broken watch here; restart it as an operator's controller would.
      setTimeout(() => void informer.start().catch(() => undefined), 500);
    });
    await informer.start();
    try {
      for (const member of [...h.cluster.memberIds]) {
        await h.cluster.killAndWait(member);
        await h.cluster.restart(member);
        await h.cluster.waitForLeader({ timeoutMs: 20_000 });
        const name = `after-${member}`;
        await waitUntil(`create ${name}`, async () => {
          await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name }, data: { a: '1' } } }).catch((error: { code?: number }) => {
            if (error.code !== 409) throw error;
          });
          return true;
        }, { timeoutMs: 20_000, intervalMs: 200 });
        await waitUntil(`the informer to see ${name}`, () => seen.has(name), { timeoutMs: 30_000 });
      }
    } finally {
      await informer.stop();
    }
  });

  it('replaces a pod status through the typed client, leaving the spec alone', async () => {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(h.kubeconfigPath);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'sp' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } });
    // The scheduler writes the pod's status too (no node fits it here): read, change, replace, and on a
    // 409 read again, as client-go's RetryOnConflict does (bounded).
    let replaced: Awaited<ReturnType<typeof core.replaceNamespacedPodStatus>> | undefined;
    for (let attempt = 1; replaced === undefined; attempt++) {
      const pod = await core.readNamespacedPod({ namespace: 'default', name: 'sp' });
      pod.status = { ...pod.status, phase: 'Running', podIP: '10.0.0.7' };
      pod.spec = { ...pod.spec, containers: [{ name: 'c', image: 'changed-through-status' }] };
      try {
        replaced = await core.replaceNamespacedPodStatus({ namespace: 'default', name: 'sp', body: pod });
      } catch (error) {
        if ((error as { code?: number }).code !== 409 || attempt >= 5) throw error;
      }
    }
    expect(replaced.status?.phase).toBe('Running');
    expect(replaced.spec?.containers[0]?.image).toBe('busybox');
  });
});
