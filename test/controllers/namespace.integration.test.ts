/**
 * Namespace deletion on a 3-member cluster of real processes, through kubectl as users do it:
 *
 * - `kubectl delete -f` of a file holding a Namespace and objects in it succeeds (exit 0, every
 *   object reported deleted): the API only marks the namespace Terminating, the namespace
 *   controller deletes the content and finalizes, then the namespace is gone.
 * - A Terminating namespace refuses creates with Kubernetes' 403 and message; content held by a
 *   finalizer keeps it Terminating with the deletion conditions saying what remains; releasing it
 *   lets the namespace go.
 * - Namespaces carry `kubernetes.io/metadata.name` (generated names too), and it cannot be changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callAs, startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server') && requireComponent('kubectl', 'install kubectl 1.32');
const settleMs = 20_000;

const manifest = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  mode: test
---
apiVersion: v1
kind: Secret
metadata:
  name: token
  namespace: shop
stringData:
  key: value
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector:
    app: web
  ports:
  - port: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: web-0
  namespace: shop
  labels:
    app: web
spec:
  containers:
  - name: web
    image: nginx:1.27
`;

describe.runIf(runs)('namespace controller (3 members, kubectl)', () => {
  let h: ApiHarness;
  const call = (method: string, path: string, body?: unknown) => callAs(h, method, path, { token: h.token, ...(body !== undefined ? { body } : {}) });

  beforeAll(async () => {
    h = await startApiHarness();
  });

  afterAll(async () => {
    await h?.stop();
  });

  it('kubectl delete -f of a Namespace and its objects succeeds; the controller empties and finalizes it', async () => {
    const file = h.manifest('shop.yaml', manifest);
    const applied = await h.kubectl(['apply', '-f', file]);
    expect(applied.code, applied.stderr).toBe(0);
    // Content the file does not name: only the namespace controller deletes it.
    expect((await call('POST', '/api/v1/namespaces/shop/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra' } })).status).toBe(201);
    expect((await call('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/shop/roles', {
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'reader' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
    })).status).toBe(201);
    expect((await call('POST', '/apis/coordination.k8s.io/v1/namespaces/shop/leases', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'lock' }, spec: {} })).status).toBe(201);
    const deleted = await h.kubectl(['delete', '-f', file]);
    expect(deleted.stderr).toBe('');
    expect(deleted.code).toBe(0);
    expect(deleted.stdout.trim().split('\n')).toEqual([
      'namespace "shop" deleted', 'configmap "settings" deleted', 'secret "token" deleted', 'service "web" deleted', 'pod "web-0" deleted',
    ]);
    await waitUntil('namespace shop gone', async () => (await call('GET', '/api/v1/namespaces/shop')).status === 404, { timeoutMs: settleMs });
    const after = await h.kubectl(['get', 'namespace', 'shop']);
    expect(after.code).toBe(1);
    expect(after.stderr.trim()).toBe('Error from server (NotFound): namespaces "shop" not found');
    for (const path of ['/api/v1/namespaces/shop/configmaps', '/api/v1/namespaces/shop/secrets', '/api/v1/namespaces/shop/services', '/api/v1/namespaces/shop/pods',
      '/api/v1/namespaces/shop/serviceaccounts', '/apis/rbac.authorization.k8s.io/v1/namespaces/shop/roles', '/apis/coordination.k8s.io/v1/namespaces/shop/leases']) {
      expect((await call('GET', path)).json['items'], path).toEqual([]);
    }
  });

  it('a Terminating namespace refuses creates (403); content held by a finalizer keeps it, reported in its conditions, until released', async () => {
    expect((await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'held' } })).status).toBe(201);
    const held = await call('POST', '/api/v1/namespaces/held/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep', finalizers: ['example.com/hold'] } });
    expect(held.status).toBe(201);
    const deleted = await h.kubectl(['delete', 'namespace', 'held', '--wait=false']);
    expect(deleted.code, deleted.stderr).toBe(0);
    const late = await call('POST', '/api/v1/namespaces/held/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } });
    expect(late.status).toBe(403);
    expect(late.json['reason']).toBe('Forbidden');
    expect(late.json['message']).toBe('configmaps "late" is forbidden: unable to create new content in namespace held because it is being terminated');
    const reported = await waitUntil('deletion conditions name what remains', async () => {
      const ns = (await call('GET', '/api/v1/namespaces/held')).json;
      const conditions = (ns['status']?.conditions ?? []) as { type: string; status: string; message: string }[];
      return conditions.some((c) => c.type === 'NamespaceFinalizersRemaining' && c.status === 'True') ? ns : null;
    }, { timeoutMs: settleMs });
    expect(reported['status'].phase).toBe('Terminating');
    expect(reported['spec']).toEqual({ finalizers: ['kubernetes'] });
    const byType = new Map((reported['status'].conditions as { type: string; status: string; reason: string; message: string }[]).map((c) => [c.type, c]));
    expect(byType.get('NamespaceContentRemaining')).toMatchObject({ status: 'True', reason: 'SomeResourcesRemain', message: 'Some resources are remaining: configmaps has 1 resource instances' });
    expect(byType.get('NamespaceFinalizersRemaining')).toMatchObject({
      status: 'True', reason: 'SomeFinalizersRemain', message: 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances',
    });
    expect(byType.get('NamespaceDeletionContentFailure')).toMatchObject({ status: 'False', reason: 'ContentDeleted' });
    const keep = (await call('GET', '/api/v1/namespaces/held/configmaps/keep')).json;
    expect(keep['metadata'].deletionTimestamp).toBeDefined();
    const released = await call('PUT', '/api/v1/namespaces/held/configmaps/keep', { ...keep, metadata: { ...keep['metadata'], finalizers: [] } });
    expect(released.status).toBe(200);
    await waitUntil('namespace held gone', async () => (await call('GET', '/api/v1/namespaces/held')).status === 404, { timeoutMs: settleMs });
  });

  it('namespaces carry kubernetes.io/metadata.name, generated names too, and the label cannot be changed', async () => {
    const named = await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'labelled', labels: { team: 'a' } } });
    expect(named.json['metadata'].labels).toEqual({ team: 'a', 'kubernetes.io/metadata.name': 'labelled' });
    const generated = await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { generateName: 'gen-' } });
    expect(generated.status).toBe(201);
    expect(generated.json['metadata'].labels).toEqual({ 'kubernetes.io/metadata.name': generated.json['metadata'].name });
    const relabel = await h.kubectl(['label', 'namespace', 'labelled', 'kubernetes.io/metadata.name=other', '--overwrite']);
    expect(relabel.code, relabel.stderr).toBe(0);
    expect((await call('GET', '/api/v1/namespaces/labelled')).json['metadata'].labels).toEqual({ team: 'a', 'kubernetes.io/metadata.name': 'labelled' });
    const selected = await h.kubectl(['get', 'namespaces', '-l', 'kubernetes.io/metadata.name=kube-system', '-o', 'name']);
    expect(selected.stdout.trim()).toBe('namespace/kube-system');
  });
});
