/**
 * The HTTP front end to end: a real 1-member store, the ObjectStore, P's credentials and the HTTPS
 * server, driven by the real kubectl 1.32 (through the gcloud dispatcher, which picks 1.32 from our
 * `/version`) and by raw HTTPS requests for the error paths kubectl never produces. Proves that
 * kubectl's everyday commands work and that bad input always gets a 4xx Status, never a 5xx.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type KubeObject } from '../../actors/apiserver/index.js';
import { createJsonLogger } from '../../bus/index.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { send, startApiHarness, type ApiHarness } from './harness.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server') && requireComponent('kubectl', 'install kubectl 1.32');
const json = { 'Content-Type': 'application/json' };
const tableAccept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

const podYaml = (name: string, labels = 'app: web'): string => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {${labels}}
spec:
  containers:
  - name: c
    image: nginx
`;

const deploymentYaml = (image: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: d1
spec:
  replicas: 2
  selector: {matchLabels: {app: d1}}
  template:
    metadata: {labels: {app: d1}}
    spec:
      containers: [{name: c, image: ${image}}]
`;

describe.runIf(runs)('API server over HTTPS (real store, real kubectl)', () => {
  let h: ApiHarness;

  beforeAll(async () => {
    // The API alone: this suite asserts what the API stores and prints (a Deployment's status as
    // written, a pod bound to a node that does not exist), which the control loops would change.
    h = await startApiHarness({ serverArgs: ['--no-controller-manager', '--no-scheduler'] });
  });

  afterAll(async () => {
    await h?.stop();
  });

  const ok = async (args: string[]): Promise<string> => {
    const result = await h.kubectl(args);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result.stdout;
  };
  const getJson = async (args: string[]): Promise<KubeObject> => JSON.parse(await ok(['get', ...args, '-o', 'json'])) as KubeObject;

  it('reports its version and its resources to kubectl', async () => {
    expect(await ok(['version'])).toContain('Server Version: v1.32.0-kubus');
    const resources = await ok(['api-resources']);
    expect(resources).toMatch(/deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
    expect(resources).toMatch(/pods\s+po\s+v1\s+true\s+Pod/);
    expect(resources).toMatch(/horizontalpodautoscalers\s+hpa\s+autoscaling\/v2/);
  });

  it('creates from a manifest and gets it back as json, yaml, a table and a wide table, filtered by labels', async () => {
    expect(await ok(['create', '-f', h.manifest('p1.yaml', podYaml('p1', 'app: web, tier: fe'))])).toContain('pod/p1 created');
    await ok(['create', '-f', h.manifest('p2.yaml', podYaml('p2', 'app: db'))]);
    const pod = await getJson(['pod', 'p1']);
    expect(pod.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect((pod['spec'] as { restartPolicy: string }).restartPolicy).toBe('Always'); // defaulted by admission
    expect(await ok(['get', 'pod', 'p1', '-o', 'yaml'])).toContain('name: p1');
    expect(await ok(['get', 'pods'])).toMatch(/NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n/);
    expect(await ok(['get', 'pods', '-o', 'wide'])).toMatch(/IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/);
    const selected = await ok(['get', 'pods', '-l', 'app=web', '-o', 'name']);
    expect(selected.trim()).toBe('pod/p1');
    expect(await ok(['get', 'pods', '-A', '--show-labels'])).toMatch(/default\s+p1\s.*app=web,tier=fe/);
    const again = await h.kubectl(['create', '-f', h.manifest('p1.yaml', podYaml('p1'))]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('AlreadyExists');
  });

  it('applies a manifest twice (unchanged), then a change (configured), and server-side', async () => {
    const path = h.manifest('d1.yaml', deploymentYaml('nginx:1'));
    expect(await ok(['apply', '-f', path])).toContain('deployment.apps/d1 created');
    expect(await ok(['apply', '-f', path])).toContain('deployment.apps/d1 unchanged');
    h.manifest('d1.yaml', deploymentYaml('nginx:2'));
    expect(await ok(['apply', '-f', path])).toContain('deployment.apps/d1 configured');
    const d1 = await getJson(['deploy', 'd1']);
    expect(d1.metadata.generation).toBe(2);
    expect(await ok(['get', 'deploy', '-o', 'wide'])).toMatch(/d1\s+0\/2\s+0\s+0\s+\S+\s+c\s+nginx:2\s+app=d1/);
    expect(await ok(['apply', '--server-side', '-f', path])).toContain('serverside-applied');
  });

  it('patches with strategic, merge and json patches, scales, and labels', async () => {
    await ok(['patch', 'deploy', 'd1', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx:3"}]}}}}']);
    await ok(['patch', 'deploy', 'd1', '--type=merge', '-p', '{"metadata":{"labels":{"x":"y"}}}']);
    await ok(['patch', 'deploy', 'd1', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":4}]']);
    let d1 = await getJson(['deploy', 'd1']) as KubeObject & { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } };
    expect(d1.spec.template.spec.containers.map((c) => c.image)).toEqual(['nginx:3']);
    expect(d1.metadata.labels).toEqual({ x: 'y' });
    expect(d1.spec.replicas).toBe(4);
    await ok(['scale', 'deploy/d1', '--replicas=5']);
    d1 = await getJson(['deploy', 'd1']) as typeof d1;
    expect(d1.spec.replicas).toBe(5);
    await ok(['label', 'pod', 'p2', 'tier=db']);
    expect((await getJson(['pod', 'p2'])).metadata.labels).toEqual({ app: 'db', tier: 'db' });
    const bad = await h.kubectl(['patch', 'deploy', 'd1', '--type=json', '-p', '[{"op":"test","path":"/spec/replicas","value":9}]']);
    expect(bad.code).not.toBe(0);
  });

  it('annotates, selects by field and describes', async () => {
    await ok(['annotate', 'pod', 'p1', 'owner=team-a']);
    expect((await getJson(['pod', 'p1'])).metadata.annotations).toMatchObject({ owner: 'team-a' });
    expect((await ok(['get', 'pods', '--field-selector', 'metadata.name=p2', '-o', 'name'])).trim()).toBe('pod/p2');
    const bad = await h.kubectl(['get', 'pods', '--field-selector', 'spec.nope=1']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/field label not supported/);
    const described = await ok(['describe', 'pod', 'p1']);
    expect(described).toMatch(/Name:\s+p1/);
    expect(described).toMatch(/owner=team-a|owner: team-a/);
  });

  it('deletes (kubectl waits for the object to disappear)', async () => {
    expect(await ok(['delete', 'pod', 'p2'])).toContain('pod "p2" deleted');
    const gone = await h.kubectl(['get', 'pod', 'p2']);
    expect(gone.stderr).toContain('(NotFound): pods "p2" not found');
  });

  it('streams a watch to `kubectl get -w` and ends it cleanly at the request timeout', async () => {
    const child = spawn('kubectl', ['--kubeconfig', h.kubeconfigPath, '--cache-dir', `${h.dir}/kube-cache`, 'get', 'pods', '-w', '--request-timeout=6s'],
      { env: { ...process.env, HOME: h.dir } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await waitUntil('the initial list', () => out.includes('p1'), { timeoutMs: 15_000 });
    await ok(['create', '-f', h.manifest('p3.yaml', podYaml('p3'))]);
    await waitUntil('the watch event for p3', () => out.includes('p3'), { timeoutMs: 15_000 });
    expect(await exited).toBe(0);
  });

  it('serves the subresources: scale, status, binding, eviction, and a clear Status for logs', async () => {
    const scale = await h.request('GET', '/apis/apps/v1/namespaces/default/deployments/d1/scale');
    expect(JSON.parse(scale.body)).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 5 }, status: { selector: 'app=d1' } });
    const status = await h.request('PATCH', '/api/v1/namespaces/default/pods/p1/status', {
      headers: { 'Content-Type': 'application/merge-patch+json' }, body: '{"status":{"phase":"Running"},"spec":{"nodeName":"ignored"}}',
    });
    expect(status.status).toBe(200);
    const bind = await h.request('POST', '/api/v1/namespaces/default/pods/p1/binding', {
      headers: json, body: JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1' }, target: { kind: 'Node', name: 'n1' } }),
    });
    expect(bind.status).toBe(201);
    const p1 = JSON.parse((await h.request('GET', '/api/v1/namespaces/default/pods/p1')).body) as { spec: { nodeName: string }; status: { phase: string } };
    expect(p1.spec.nodeName).toBe('n1');
    expect(p1.status.phase).toBe('Running');
    const rebind = await h.request('POST', '/api/v1/namespaces/default/pods/p1/binding', {
      headers: json, body: JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1' }, target: { kind: 'Node', name: 'n2' } }),
    });
    expect(rebind.status).toBe(409);
    const log = await h.request('GET', '/api/v1/namespaces/default/pods/p1/log?container=c');
    // p1's node has no agent: the member asks it on node.<N>.rpc and says it does not answer.
    expect(log.status).toBe(500);
    expect(JSON.parse(log.body).message).toContain('does not answer');
    const evict = await h.request('POST', '/api/v1/namespaces/default/pods/p3/eviction', {
      headers: json, body: JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'p3', namespace: 'default' } }),
    });
    expect(evict.status).toBe(201);
    expect((await h.request('GET', '/api/v1/namespaces/default/pods/p3')).status).toBe(404);
  });

  it('serves aggregated and legacy discovery, resource lists and the OpenAPI v3 stub', async () => {
    const aggregated = await h.request('GET', '/apis', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' } });
    expect(aggregated.headers['content-type']).toContain('as=APIGroupDiscoveryList');
    expect(JSON.parse(aggregated.body).items.map((g: { metadata: { name: string } }) => g.metadata.name)).toContain('apps');
    const legacy = JSON.parse((await h.request('GET', '/apis')).body) as { kind: string };
    expect(legacy.kind).toBe('APIGroupList');
    const core = JSON.parse((await h.request('GET', '/api/v1')).body) as { resources: { name: string; group?: string; kind: string }[] };
    expect(core.resources.find((r) => r.name === 'pods/eviction')).toMatchObject({ group: 'policy', kind: 'Eviction' });
    expect(core.resources.findIndex((r) => r.name === 'pods')).toBeLessThan(core.resources.findIndex((r) => r.name === 'pods/status'));
    const root = JSON.parse((await h.request('GET', '/openapi/v3')).body) as { paths: Record<string, { serverRelativeURL: string }> };
    const apps = root.paths['apis/apps/v1'];
    expect(apps?.serverRelativeURL).toMatch(/\?hash=/);
    expect((await h.request('GET', apps?.serverRelativeURL ?? '/')).status).toBe(200);
    const table = JSON.parse((await h.request('GET', '/api/v1/namespaces/default/pods', { headers: { Accept: tableAccept } })).body) as { kind: string; rows: unknown[] };
    expect(table.kind).toBe('Table');
    expect(table.rows.length).toBeGreaterThan(0);
  });

  it('streams watch events as JSON lines over chunked encoding and honours timeoutSeconds', async () => {
    const list = JSON.parse((await h.request('GET', '/api/v1/namespaces/default/configmaps')).body) as { metadata: { resourceVersion: string } };
    await h.request('POST', '/api/v1/namespaces/default/configmaps', { headers: json, body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w1' } }) });
    const watch = await h.request('GET', `/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&resourceVersion=${list.metadata.resourceVersion}`);
    expect(watch.status).toBe(200);
    expect(watch.headers['transfer-encoding']).toBe('chunked');
    const events = watch.body.trim().split('\n').map((line) => JSON.parse(line) as { type: string; object: KubeObject });
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { kind: 'ConfigMap', metadata: { name: 'w1' } } });
  });

  it('runs dryRun=All through validation without persisting', async () => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dry' } });
    expect((await h.request('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { headers: json, body })).status).toBe(201);
    expect((await h.request('GET', '/api/v1/namespaces/default/configmaps/dry')).status).toBe(404);
  });

  it('answers bad input with the right 4xx Status', async () => {
    const cm = (body: string, headers: Record<string, string> = json) => h.request('POST', '/api/v1/namespaces/default/configmaps', { headers, body });
    expect((await h.request('GET', '/api/v1/pods', { token: null })).status).toBe(401);
    expect((await h.request('GET', '/api/v1/pods', { token: 'wrong' })).status).toBe(401);
    expect((await h.request('GET', '/healthz', { token: null })).status).toBe(200);
    expect((await h.request('GET', '/readyz', { token: null })).body).toBe('ok');
    expect((await cm('{not json')).status).toBe(400);
    expect((await cm('a: [', { 'Content-Type': 'application/yaml' })).status).toBe(400);
    expect((await cm('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-yaml}\n', { 'Content-Type': 'application/yaml' })).status).toBe(201);
    const proto = await cm('k8s\u0000junk', { 'Content-Type': 'application/vnd.kubernetes.protobuf' });
    expect(proto.status).toBe(415);
    expect(JSON.parse(proto.body).message).toContain('kubectl create -f');
    expect((await cm('x'.repeat(3 * 1024 * 1024 + 1))).status).toBe(413);
    expect((await h.request('GET', '/api/v1/widgets')).status).toBe(404);
    expect((await h.request('GET', '/apis/apps/v9/deployments')).status).toBe(404);
    expect((await h.request('PUT', '/api/v1/namespaces/default/configmaps', { headers: json, body: '{}' })).status).toBe(405);
    expect((await h.request('DELETE', '/api/v1/namespaces/default/services')).status).toBe(405); // no deletecollection on services
    const invalid = await cm(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name' } }));
    expect(invalid.status).toBe(422);
    expect(JSON.parse(invalid.body).details.causes[0].field).toBe('metadata.name');
    const mismatch = await cm(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'm', namespace: 'other' } }));
    expect(mismatch.status).toBe(400);
    expect((await cm(JSON.stringify({ apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'm' } }))).status).toBe(400);
    expect((await h.request('GET', '/api/v1/namespaces/default/pods?labelSelector=a%20in%20(')).status).toBe(400);
    expect((await h.request('PATCH', '/api/v1/namespaces/default/configmaps/from-yaml', { headers: { 'Content-Type': 'text/plain' }, body: '{}' })).status).toBe(415);
  });

  it('never answers garbage with a 5xx', async () => {
    const paths = ['/api/v1/namespaces/default/pods', '/api/v1/namespaces/default/pods/p1', '/apis/apps/v1/namespaces/default/deployments/d1/scale',
      '/api/v1/namespaces/default/pods/p1/status', '/api/v1/namespaces', '/api/v1/nodes/n1', '/api/v1/namespaces/nope/configmaps'];
    const bodies = ['', 'null', '[]', '42', '"s"', '{"metadata":5}', '{"kind":5,"apiVersion":[],"metadata":{"name":{}}}',
      '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1"},"spec":{"containers":"x"}}', '[{"op":"bogus"}]', '{"spec":{"replicas":"3"}}'];
    const types = ['application/json', 'application/merge-patch+json', 'application/json-patch+json', 'application/strategic-merge-patch+json', 'application/yaml'];
    const failures: string[] = [];
    for (const path of paths) {
      for (const method of ['POST', 'PUT', 'PATCH']) {
        for (const [i, body] of bodies.entries()) {
          const type = types[i % types.length] ?? 'application/json';
          const reply = await h.request(method, path, { headers: { 'Content-Type': type }, body });
          if (reply.status >= 500) failures.push(`${method} ${path} ${type} ${body} → ${reply.status} ${reply.body}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('serves @kubernetes/client-node: typed create without kind, json-patch, 404, an informer and KubernetesObjectApi', async () => {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(h.kubeconfigPath);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const seen: string[] = [];
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name ?? ''}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name ?? ''}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name ?? ''}`));
    await informer.start();
    try {
      // The typed client sends no kind/apiVersion; the URL supplies them, as the real decoder does.
      await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'jc' }, data: { a: '1' } } });
      await core.patchNamespacedConfigMap({ namespace: 'default', name: 'jc', body: [{ op: 'replace', path: '/data/a', value: '2' }] });
      expect((await core.readNamespacedConfigMap({ namespace: 'default', name: 'jc' })).data).toEqual({ a: '2' });
      await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'jc' });
      await expect(core.readNamespacedConfigMap({ namespace: 'default', name: 'jc' })).rejects.toMatchObject({ code: 404 });
      await waitUntil('add, update and delete of jc', () => ['add jc', 'update jc', 'delete jc'].every((e) => seen.includes(e)), { timeoutMs: 10_000 });
      const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
      const created = await objects.create({
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'od', namespace: 'default' },
        spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
      } as Parameters<typeof objects.create>[0]);
      expect(created.metadata?.uid).toBeDefined();
    } finally {
      await informer.stop();
    }
  });

  it('sheds load with 429 and Retry-After beyond the in-flight bound', async () => {
    // The first request holds the only seat: its authorization never completes until released.
    // (A stalled body no longer holds a seat: bodies are read before the seat is taken.)
    let releaseHeld: () => void = () => {};
    const held = new Promise<void>((resolve) => { releaseHeld = resolve; });
    const server = await startApiServer({
      host: '127.0.0.1', port: 0, tls: h.tls, objects: h.objects, limits: { inFlightMax: 1 },
      authenticator: { authenticate: () => ({ name: 'u', uid: 'u', groups: [] }) }, logger: createJsonLogger({ level: 'error' }),
      authorizer: { authorize: async (request) => { if (request.name === 'held') await held; } },
    });
    try {
      const heldReply = send(server.url, h.caCertPem, 'GET', '/api/v1/namespaces/default/configmaps/held', { headers: {} });
      const second = await waitUntil('a 429 while the seat is held', async () => {
        const reply = await send(server.url, h.caCertPem, 'GET', '/api/v1/namespaces/default/configmaps', { headers: {} });
        return reply.status === 429 ? reply : null;
      }, { timeoutMs: 15_000 });
      expect(second.headers['retry-after']).toBe('1');
      releaseHeld();
      expect((await heldReply).status).toBe(404);
      await waitUntil('the seat to be released', async () =>
        (await send(server.url, h.caCertPem, 'GET', '/api/v1/namespaces/default/configmaps', { headers: {} })).status === 200, { timeoutMs: 10_000 });
    } finally {
      releaseHeld();
      await server.close();
    }
  });
});
