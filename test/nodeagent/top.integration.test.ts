/**
 * `kubectl top` end to end (issue 13 §3): one member and two real agents joined with a bootstrap
 * token, both publishing metrics every second — one running host processes (`process` runtime),
 * one hollow (its containers "use" what `kubus.io/hollow-cpu` / `-memory` name). The real kubectl
 * 1.32 finds metrics.k8s.io in discovery and reads NodeMetrics and PodMetrics:
 *
 * - `kubectl top pod` shows the hollow pod at exactly its annotated 250m / 16Mi and the process
 *   pod (a small busy loop) with real, non-zero CPU and memory; `-l` selects by the pods' labels,
 *   `-A` lists every namespace, `--containers` names the containers.
 * - The same PodMetrics over NATS (NatsApiClient), the way the HPA controller reads them.
 * - `kubectl top node` shows both nodes, the hollow one using what its pods use.
 * - RBAC: a user bound to `view` in the namespace may `top pod` there (the default role includes
 *   metrics.k8s.io); one with no binding is refused, as is `top node` for the view user.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newBootstrapToken } from '../../actors/apiserver/authn/index.js';
import { refs } from '../../actors/controllers/runtime/resource-refs.js';
import { createJsonLogger } from '../../bus/logger.js';
import { caCertHash } from '../../nodeagent/join/index.js';
import { defaultNodeConfig, defaultServicesConfig, startAgent, type RunningAgent } from '../../nodeagent/agent.js';
import { callAs, startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server') && requireComponent('kubectl', 'install kubectl 1.32');
const ns = 'top';
const nodes = [
  { name: 'top-process', runtime: 'process' as const, ip: '127.32.208.1' },
  { name: 'top-hollow', runtime: 'hollow' as const, ip: '127.32.208.2' },
];
const viewer = { token: 'kubus-test-h6-viewer-token', name: 'viewer' };
const stranger = { token: 'kubus-test-h6-stranger-token', name: 'stranger' };

/** ~20 % of a core: 20 ms of spinning every 100 ms. */
const busyLoop = 'setInterval(() => { const end = Date.now() + 20; while (Date.now() < end); }, 100);';

const setup = `apiVersion: v1
kind: Namespace
metadata: { name: ${ns} }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: viewer-view, namespace: ${ns} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: ${viewer.name} }]
`;

const pods = `apiVersion: v1
kind: Pod
metadata: { name: busy, namespace: ${ns}, labels: { app: busy, tier: real } }
spec:
  nodeName: top-process
  containers:
  - name: spin
    image: kubus.io/process
    command: [${JSON.stringify(process.execPath)}, -e, ${JSON.stringify(busyLoop)}]
---
apiVersion: v1
kind: Pod
metadata:
  name: ghost
  namespace: ${ns}
  labels: { app: ghost, tier: hollow }
  annotations: { kubus.io/hollow-cpu: 250m, kubus.io/hollow-memory: 16Mi }
spec:
  nodeName: top-hollow
  containers:
  - { name: a, image: kubus.io/hollow }
  - { name: b, image: kubus.io/hollow }
`;

describe.runIf(runs)('kubectl top on process and hollow agents', () => {
  let h: ApiHarness;
  let scratch: string;
  const agents: RunningAgent[] = [];
  const kubectl = async (...args: string[]): Promise<string> => {
    const result = await h.kubectl(args, { timeoutMs: 60_000 });
    expect(result.code, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  };
  /** `kubectl top ...` once metrics are there: it fails with "metrics not available yet" until the first reports arrive. */
  const top = (...args: string[]): Promise<string> => waitUntil(`kubectl top ${args.join(' ')}`, async () => {
    const result = await h.kubectl(['top', ...args], { timeoutMs: 30_000 });
    return result.code === 0 ? result.stdout : null;
  }, { timeoutMs: 45_000, intervalMs: 500 });

  beforeAll(async () => {
    h = await startApiHarness({ members: 1, users: [viewer, stranger] });
    scratch = mkdtempSync(join(tmpdir(), 'kubus-test-h6-top-'));
    const bootstrap = newBootstrapToken(new Date(Date.now() + 30 * 60_000));
    expect((await callAs(h, 'POST', '/api/v1/namespaces/kube-system/secrets', { token: h.token, body: bootstrap.secret })).status).toBe(201);
    for (const node of nodes) {
      agents.push(await startAgent({
        join: { node: node.name, dir: join(scratch, node.name), server: h.url, token: bootstrap.token, caCertHash: caCertHash(h.caCertPem) },
        runtime: node.runtime,
        node: defaultNodeConfig({ nodeIp: node.ip, services: defaultServicesConfig(node.ip, { proxy: false, clusterDns: null }) }),
        metricsIntervalMs: 1_000,
        logger: createJsonLogger({ level: 'warn' }),
      }));
    }
    await Promise.all(agents.map((agent) => agent.connected()));
    await kubectl('apply', '-f', h.manifest('setup.yaml', setup));
    await waitUntil('the default ServiceAccount', async () => (await adminApi(h).get(refs.serviceaccounts, ns, 'default').catch(() => null)) !== null, { timeoutMs: 30_000 });
    await kubectl('apply', '-f', h.manifest('pods.yaml', pods));
  }, 120_000);

  afterAll(async () => {
    for (const agent of agents) await agent.stop({ drain: true });
    await h?.stop();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  }, 60_000);

  it('kubectl top pod shows the annotated usage of hollow pods and real usage of process pods', async () => {
    const both = await waitUntil('both pods in kubectl top', async () => {
      const out = await top('pod', '-n', ns);
      return /^busy\s/m.test(out) && /^ghost\s/m.test(out) ? out : null;
    }, { timeoutMs: 60_000, intervalMs: 500 });
    process.stderr.write(`top: kubectl top pod -n ${ns}\n${both}`);
    expect(both).toMatch(/^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    // Two containers at 250m and 16Mi each.
    expect(both).toMatch(/^ghost\s+500m\s+32Mi\s*$/m);
    const busy = /^busy\s+(\d+)m\s+(\d+)Mi\s*$/m.exec(both);
    expect(busy, both).not.toBeNull();
    expect(Number(busy?.[1])).toBeGreaterThan(0);
    expect(Number(busy?.[2])).toBeGreaterThan(1);

    expect(await top('pod', '-n', ns, '-l', 'tier=hollow')).not.toMatch(/^busy/m);
    const containers = await top('pod', 'ghost', '-n', ns, '--containers');
    expect(containers).toMatch(/^ghost\s+a\s+250m\s+16Mi\s*$/m);
    expect(containers).toMatch(/^ghost\s+b\s+250m\s+16Mi\s*$/m);
    expect(await top('pod', '-A')).toMatch(new RegExp(`^${ns}\\s+ghost\\s+500m\\s+32Mi\\s*$`, 'm'));
    // `kubectl get` finds the kind through discovery and prints metrics-server's table.
    const got = await kubectl('get', 'podmetrics', '-n', ns);
    expect(got).toMatch(/^NAME\s+CPU\s+MEMORY\s+WINDOW/);
    expect(got).toMatch(/^ghost\s+500m\s+32Mi\s+\d+(\.\d+)?m?s\s*$/m);
  }, 120_000);

  it('PodMetrics over NATS, as the HPA controller reads them (NatsApiClient, label selector)', async () => {
    const podMetrics = { group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods', namespaced: true } as const;
    const list = await adminApi(h).list<{ metadata: { name: string; labels?: Record<string, string> }; containers: { name: string; usage: { cpu: string; memory: string } }[] }>(
      podMetrics, { namespace: ns, labelSelector: 'app=ghost' },
    );
    expect(list.items.map((i) => i.metadata.name)).toEqual(['ghost']);
    expect(list.items[0]?.metadata.labels).toEqual({ app: 'ghost', tier: 'hollow' });
    expect(list.items[0]?.containers).toEqual([{ name: 'a', usage: { cpu: '250000000n', memory: '16384Ki' } }, { name: 'b', usage: { cpu: '250000000n', memory: '16384Ki' } }]);
  });

  it('kubectl top node shows both nodes; the hollow node uses what its pods use', async () => {
    const out = await waitUntil('both nodes in kubectl top node', async () => {
      const text = await top('node');
      return /^top-hollow\s+500m/m.test(text) && /^top-process\s+\d+m/m.test(text) ? text : null;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    process.stderr.write(`top: kubectl top node\n${out}`);
    expect(out).toMatch(/^NAME\s+CPU\(cores\)\s+CPU\(%\)\s+MEMORY\(bytes\)\s+MEMORY\(%\)/);
    expect(out).toMatch(/^top-hollow\s+500m\s+\d+%\s+32Mi\s+\d+%\s*$/m);
    expect(out).toMatch(/^top-process\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\s*$/m);
    expect(await top('node', 'top-hollow')).toMatch(/^top-hollow\s+500m/m);
  }, 60_000);

  it('RBAC: view in the namespace may top its pods; no binding, or top node, is refused', async () => {
    const as = (user: { token: string }, ...args: string[]) => h.kubectl([`--token=${user.token}`, 'top', ...args], { timeoutMs: 30_000 });
    const allowed = await as(viewer, 'pod', '-n', ns);
    expect([allowed.code, allowed.stderr]).toEqual([0, '']);
    expect(allowed.stdout).toMatch(/^ghost\s+500m/m);
    const refused = await as(stranger, 'pod', '-n', ns);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/forbidden/i);
    const nodesRefused = await as(viewer, 'node');
    expect(nodesRefused.code).not.toBe(0);
    expect(nodesRefused.stderr).toMatch(/forbidden/i);
  }, 60_000);
});
