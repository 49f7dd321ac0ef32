/**
 * Pod admission, PriorityClasses and PodDisruptionBudgets end to end on a 3-member cluster of
 * real processes (kubus server runs the controller manager, so the disruption controller keeps
 * budgets' status): a pod naming an unknown class or account is refused with Kubernetes' 403 and
 * nothing is stored; an admitted pod carries its priority, default tolerations, the projected
 * token volume and its QoS class; the system classes exist and print as kubectl prints them;
 * an eviction that would break a budget gets 429 with Kubernetes' message until the budget
 * allows it; `kubectl drain` waits on the budget and proceeds once a pod elsewhere becomes ready;
 * a Deployment whose selector does not match its template is refused with 422.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { confirmDeletionsOn, createHollowNodes, markPodsReady, startNodeLeaseRenewer } from '../support/control-plane.js';
import { callAs, startApiHarness, type ApiHarness } from './harness.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');

let h: ApiHarness;
const call = (method: string, path: string, body?: unknown) => callAs(h, method, path, { token: h.token, ...(body !== undefined ? { body } : {}) });
const pods = (ns: string) => `/api/v1/namespaces/${ns}/pods`;
const budgets = (ns: string) => `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`;
const pod = (name: string, extra: Record<string, unknown> = {}, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels },
  spec: { containers: [{ name: 'c', image: 'nginx:1.27' }], ...extra },
});
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** What a kubelet would report for a running, ready pod. */
async function markRunningReady(ns: string, name: string): Promise<void> {
  const current = await call('GET', `${pods(ns)}/${name}`);
  const status = { ...current.json['status'], phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now() }] };
  const reply = await call('PUT', `${pods(ns)}/${name}/status`, { ...current.json, status });
  expect(reply.status, JSON.stringify(reply.json)).toBe(200);
}

async function createNamespace(name: string): Promise<void> {
  expect((await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } })).status).toBe(201);
}

/** The budget's status once the disruption controller has computed `want` for its current generation. */
async function budgetStatus(ns: string, name: string, want: Record<string, number>): Promise<Record<string, any>> {
  return waitUntil(`budget ${ns}/${name} status ${JSON.stringify(want)}`, async () => {
    const reply = await call('GET', `${budgets(ns)}/${name}`);
    const status = reply.json['status'] ?? {};
    if (status.observedGeneration !== reply.json['metadata']?.generation) return null;
    return Object.entries(want).every(([k, v]) => status[k] === v) ? status : null;
  }, { timeoutMs: 20_000, intervalMs: 100 });
}

/** kubectl as a child whose output the test reads while it runs (drain retries every 5 s). */
function startKubectl(args: readonly string[]): { output(): string; exited: Promise<number | null>; stop(): void } {
  const child = spawn('kubectl', ['--kubeconfig', h.kubeconfigPath, '--cache-dir', join(h.dir, 'kube-cache'), ...args], { env: { ...process.env, HOME: h.dir } });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
  child.stderr.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { output: () => text, exited, stop: () => { if (child.exitCode === null && child.pid !== undefined) child.kill('SIGTERM'); } };
}

const evict = (ns: string, name: string) => call('POST', `${pods(ns)}/${name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: ns } });

beforeAll(async () => {
  if (!runs) return;
  h = await startApiHarness();
  // Pods are bound to Nodes that exist (pod garbage collection deletes pods of unknown nodes).
  for (const node of ['drain-a', 'drain-b']) {
    const created = await call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: node, labels: { 'kubernetes.io/hostname': node } } });
    expect(created.status).toBe(201);
  }
  // No agent runs on them: the harness confirms graceful deletions as an agent would.
  confirmDeletionsOn(h, ['drain-a', 'drain-b']);
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

describe.runIf(runs)('pod admission', () => {
  it('refuses a pod naming an unknown PriorityClass with 403, and stores nothing', async () => {
    const reply = await call('POST', pods('default'), pod('unknown-class', { priorityClassName: 'foo' }));
    expect(reply.status).toBe(403);
    expect(reply.json['reason']).toBe('Forbidden');
    expect(reply.json['message']).toBe('pods "unknown-class" is forbidden: no PriorityClass with name foo was found');
    expect((await call('GET', `${pods('default')}/unknown-class`)).status).toBe(404);
    // kubectl words it as against Kubernetes.
    const applied = await h.kubectl(['apply', '-f', h.manifest('unknown-class.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: unknown-class\nspec:\n  priorityClassName: foo\n  containers:\n  - name: c\n    image: nginx:1.27\n')]);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain('pods "unknown-class" is forbidden: no PriorityClass with name foo was found');
  });

  it('has the two system classes, printed as kubectl prints them, and allows one global default', async () => {
    const table = await h.kubectl(['get', 'pc']);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trim().split('\n').map((l) => l.split(/\s+/));
    expect(lines[0]).toEqual(['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY']);
    expect(lines.slice(1).map((l) => [l[0], l[1], l[2], l[4]])).toEqual([
      ['system-cluster-critical', '2000000000', 'false', 'PreemptLowerPriority'],
      ['system-node-critical', '2000001000', 'false', 'PreemptLowerPriority'],
    ]);
    const high = { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'high' }, value: 1000, globalDefault: true };
    expect((await call('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', high)).status).toBe(201);
    const second = await call('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', { ...high, metadata: { name: 'also-default' }, value: 10 });
    expect([second.status, second.json['message']]).toEqual([403, 'priorityclasses.scheduling.k8s.io "also-default" is forbidden: PriorityClass high is already marked as default. Only one default can exist']);
    const reserved = await call('POST', '/apis/scheduling.k8s.io/v1/priorityclasses', { ...high, metadata: { name: 'system-mine' }, globalDefault: false });
    expect(reserved.status).toBe(422);
    // The default is used by pods that name no class; then it stops being default for the rest of the file.
    const defaulted = await call('POST', pods('default'), pod('gets-default'));
    expect([defaulted.status, defaulted.json['spec']?.priorityClassName, defaulted.json['spec']?.priority]).toEqual([201, 'high', 1000]);
    const current = await call('GET', '/apis/scheduling.k8s.io/v1/priorityclasses/high');
    expect((await call('PUT', '/apis/scheduling.k8s.io/v1/priorityclasses/high', { ...current.json, globalDefault: false })).status).toBe(200);
  });

  it('gives an admitted pod its priority, default tolerations, API credentials volume and QoS class', async () => {
    const reply = await call('POST', pods('default'), pod('admitted', {
      priorityClassName: 'system-cluster-critical',
      containers: [{ name: 'c', image: 'nginx:1.27', resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '100m', memory: '64Mi' } } }],
    }));
    expect(reply.status, JSON.stringify(reply.json)).toBe(201);
    const stored = (await call('GET', `${pods('default')}/admitted`)).json;
    expect(stored['spec'].priority).toBe(2000000000);
    expect(stored['spec'].preemptionPolicy).toBe('PreemptLowerPriority');
    expect(stored['spec'].serviceAccountName).toBe('default');
    expect(stored['spec'].tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    const volume = stored['spec'].volumes[0];
    expect(volume.name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(volume.projected.sources.map((s: Record<string, unknown>) => Object.keys(s)[0])).toEqual(['serviceAccountToken', 'configMap', 'downwardAPI']);
    expect(stored['spec'].containers[0].volumeMounts).toEqual([{ name: volume.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
    expect(stored['status'].qosClass).toBe('Guaranteed');
  });

  it('refuses a pod naming a ServiceAccount that does not exist, and admits it once the account exists', async () => {
    const refused = await call('POST', pods('default'), pod('robot-pod', { serviceAccountName: 'robot' }));
    expect([refused.status, refused.json['message']]).toEqual([403, 'pods "robot-pod" is forbidden: error looking up service account default/robot: serviceaccount "robot" not found']);
    expect((await call('POST', '/api/v1/namespaces/default/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' }, automountServiceAccountToken: false })).status).toBe(201);
    const admitted = await call('POST', pods('default'), pod('robot-pod', { serviceAccountName: 'robot' }));
    expect(admitted.status).toBe(201);
    expect(admitted.json['spec'].volumes).toBeUndefined();
  });

  it('validates the new kinds and prints them as kubectl does', async () => {
    const both = await call('POST', budgets('default'), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'both' }, spec: { minAvailable: 1, maxUnavailable: 1, selector: {} } });
    expect([both.status, both.json['details']?.causes?.[0]?.message]).toEqual([422, 'Invalid value: {"minAvailable":1,"maxUnavailable":1,"selector":{}}: minAvailable and maxUnavailable cannot be both set']);
    const noProvisioner = await call('POST', '/apis/storage.k8s.io/v1/storageclasses', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'none' } });
    expect([noProvisioner.status, noProvisioner.json['message']]).toEqual([422, 'StorageClass.storage.k8s.io "none" is invalid: provisioner: Required value']);
    expect((await call('POST', '/apis/storage.k8s.io/v1/storageclasses', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'later' }, provisioner: 'kubus.io/local-path', volumeBindingMode: 'WaitForFirstConsumer' })).status).toBe(201);
    const sc = await h.kubectl(['get', 'sc', 'later']);
    expect(sc.stdout.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 5))).toEqual([
      ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION'], ['later', 'kubus.io/local-path', 'Delete', 'WaitForFirstConsumer', 'false'],
    ]);
    const slice = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'manual' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.1.0.1'] }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] };
    expect((await call('POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { ...slice, addressType: 'IPv9' })).status).toBe(422);
    expect((await call('POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', slice)).status).toBe(201);
    const slices = await h.kubectl(['get', 'endpointslices', 'manual']);
    expect(slices.stdout.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 4))).toEqual([['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS'], ['manual', 'IPv4', '8080', '10.1.0.1']]);
  });

  it('refuses a Deployment whose selector does not match its template with 422, and stores nothing', async () => {
    const deployment = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'mismatch' },
      spec: { replicas: 1, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'b' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } } },
    };
    const reply = await call('POST', '/apis/apps/v1/namespaces/default/deployments', deployment);
    expect(reply.status).toBe(422);
    expect(reply.json['message']).toBe('Deployment.apps "mismatch" is invalid: spec.template.metadata.labels: Invalid value: {"app":"b"}: `selector` does not match template `labels`');
    expect((await call('GET', '/apis/apps/v1/namespaces/default/deployments/mismatch')).status).toBe(404);
    expect((await call('GET', '/apis/apps/v1/namespaces/default/replicasets')).json['items']).toEqual([]);
  });
});

describe.runIf(runs)('eviction under a PodDisruptionBudget', () => {
  it('answers 429 with Kubernetes\' message while the budget allows nothing, and evicts once it does', async () => {
    await createNamespace('budget');
    for (const name of ['web-1', 'web-2']) {
      expect((await call('POST', pods('budget'), pod(name, { nodeName: 'drain-b' }, { app: 'web' }))).status).toBe(201);
      await markRunningReady('budget', name);
    }
    const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' }, spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } } };
    expect((await call('POST', budgets('budget'), pdb)).status).toBe(201);
    const status = await budgetStatus('budget', 'web', { currentHealthy: 2, desiredHealthy: 2, expectedPods: 2, disruptionsAllowed: 0 });
    expect(status['conditions'][0]).toMatchObject({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' });

    const refused = await evict('budget', 'web-1');
    expect(refused.status).toBe(429);
    expect(refused.json).toMatchObject({
      reason: 'TooManyRequests', message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 2 currently' }] },
    });
    expect((await call('GET', `${pods('budget')}/web-1`)).status).toBe(200);
    const table = await h.kubectl(['get', 'pdb', '-n', 'budget', '--no-headers']);
    expect(table.stdout.trim().split(/\s+/).slice(0, 4)).toEqual(['web', '2', 'N/A', '0']);

    // A third ready pod: one disruption allowed, spent by the first eviction; the second is refused.
    expect((await call('POST', pods('budget'), pod('web-3', { nodeName: 'drain-b' }, { app: 'web' }))).status).toBe(201);
    await markRunningReady('budget', 'web-3');
    await budgetStatus('budget', 'web', { currentHealthy: 3, disruptionsAllowed: 1 });
    const [first, second] = await Promise.all([evict('budget', 'web-1'), evict('budget', 'web-2')]);
    expect([first.status, second.status].sort()).toEqual([201, 429]);
    const evicted = first.status === 201 ? 'web-1' : 'web-2';
    // An evicted pod is first marked for graceful deletion, then confirmed gone by its node.
    await waitUntil(`${evicted} gone`, async () => (await call('GET', `${pods('budget')}/${evicted}`)).status === 404, { timeoutMs: 10_000 });
    await budgetStatus('budget', 'web', { currentHealthy: 2, expectedPods: 2, disruptionsAllowed: 0 });
  });

  it('counts a Deployment\'s replicas as the expected pods of a maxUnavailable budget', async () => {
    await createNamespace('scaled');
    const nodes = await createHollowNodes(h, 2, { prefix: 'scaled' });
    const renewer = startNodeLeaseRenewer(h, nodes);
    try {
      const deployment = {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api' },
        spec: { replicas: 3, selector: { matchLabels: { app: 'api' } }, template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } } },
      };
      expect((await call('POST', '/apis/apps/v1/namespaces/scaled/deployments', deployment)).status).toBe(201);
      await waitUntil('3 ready api pods', async () => {
        await markPodsReady(h, 'scaled', 'app=api');
        const listed = await call('GET', `${pods('scaled')}?labelSelector=app%3Dapi`);
        return listed.json['items'].filter((p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length === 3;
      }, { timeoutMs: 30_000, intervalMs: 200 });
      const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'api' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'api' } } } };
      expect((await call('POST', budgets('scaled'), pdb)).status).toBe(201);
      await budgetStatus('scaled', 'api', { expectedPods: 3, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 });
      // Scaled up: the Deployment's 5 replicas are expected before the new pods are ready, so nothing may be disrupted.
      const scaled = await h.kubectl(['scale', 'deployment/api', '-n', 'scaled', '--replicas=5']);
      expect(scaled.code, scaled.stderr).toBe(0);
      await budgetStatus('scaled', 'api', { expectedPods: 5, desiredHealthy: 4, currentHealthy: 3, disruptionsAllowed: 0 });
      const victim = (await call('GET', `${pods('scaled')}?labelSelector=app%3Dapi`)).json['items'].find((p: any) => p.status?.phase === 'Running').metadata.name;
      const refused = await evict('scaled', victim);
      expect([refused.status, refused.json['details']?.causes?.[0]?.message]).toEqual([429, 'The disruption budget api needs 4 healthy pods and has 3 currently']);
      expect((await call('DELETE', '/apis/apps/v1/namespaces/scaled/deployments/api')).status).toBe(200);
    } finally {
      await renewer.stop();
    }
  });

  it('kubectl drain waits on the budget, then evicts once a pod elsewhere is ready', async () => {
    await createNamespace('drain');
    expect((await call('POST', pods('drain'), pod('db-1', { nodeName: 'drain-a' }, { app: 'db' }))).status).toBe(201);
    await markRunningReady('drain', 'db-1');
    const pdb = { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'db' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'db' } } } };
    expect((await call('POST', budgets('drain'), pdb)).status).toBe(201);
    await budgetStatus('drain', 'db', { currentHealthy: 1, disruptionsAllowed: 0 });

    const drain = startKubectl(['drain', 'drain-a', '--force', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=45s']);
    try {
      // kubectl says it will retry after 5 s: the budget refused the eviction; only then is it relieved.
      await waitUntil('drain refused by the budget', () => drain.output().includes("Cannot evict pod as it would violate the pod's disruption budget."), { timeoutMs: 20_000, intervalMs: 50 });
      expect((await call('GET', `${pods('drain')}/db-1`)).status).toBe(200);
      expect((await call('POST', pods('drain'), pod('db-2', { nodeName: 'drain-b' }, { app: 'db' }))).status).toBe(201);
      await markRunningReady('drain', 'db-2');
      const code = await drain.exited;
      expect(code, drain.output()).toBe(0);
    } finally {
      drain.stop();
    }
    expect(drain.output()).toContain('pod/db-1 evicted');
    expect(drain.output()).toContain('node/drain-a drained');
    expect((await call('GET', '/api/v1/nodes/drain-a')).json['spec']?.unschedulable).toBe(true);
    expect((await call('GET', `${pods('drain')}/db-1`)).status).toBe(404);
    expect((await call('GET', `${pods('drain')}/db-2`)).status).toBe(200);
  });
});
