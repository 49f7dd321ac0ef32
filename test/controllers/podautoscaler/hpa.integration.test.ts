/**
 * The horizontal pod autoscaler end to end (issue 13 §3 acceptance): one member (controller
 * manager, scheduler, API with metrics.k8s.io) with the HPA sync period at 1 s, and one real
 * hollow agent joined with a bootstrap token whose metrics publisher reports every 1 s. Hollow
 * containers "use" the CPU their pod's `kubus.io/hollow-cpu` annotation names, so the whole
 * pipeline is real: agent stats → report on the bus → the member's PodMetrics → the HPA
 * controller → the Deployment's scale subresource → ReplicaSet → pods on the agent.
 *
 * - A Deployment of 1 pod using 200m against a 100m request (200 %) with an HPA targeting 50 %
 *   (max 4) is scaled to 4 (one sync after the first metrics), with the SuccessfulRescale event
 *   Kubernetes writes and the status (currentMetrics, conditions, lastScaleTime).
 * - Lowering the annotation (a new template, so new pods) to 10m (10 %) scales it back to 1 once
 *   the HPA's 3 s scale-down stabilization window has passed.
 * - `kubectl autoscale` (kubectl 1.32 posts the autoscaling/v1 object as protobuf) creates an HPA
 *   the controller picks up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { Event } from 'kubernetes-types/core/v1.js';
import { newBootstrapToken } from '../../../actors/apiserver/authn/index.js';
import { refs } from '../../../actors/controllers/runtime/resource-refs.js';
import { createJsonLogger } from '../../../bus/logger.js';
import { caCertHash } from '../../../nodeagent/join/index.js';
import { defaultNodeConfig, defaultServicesConfig, startAgent, type RunningAgent } from '../../../nodeagent/agent.js';
import { callAs, startApiHarness, type ApiHarness } from '../../apiserver/harness.js';
import { requireComponent } from '../../support/components.js';
import { adminApi } from '../../support/control-plane.js';
import { waitUntil } from '../../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const ns = 'hpa';
const nodeIp = '127.32.207.1';

const deployment = (cpu: string): string => `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${ns} }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata:
      labels: { app: web }
      annotations: { kubus.io/hollow-cpu: ${cpu}, kubus.io/hollow-memory: 32Mi }
    spec:
      containers:
      - name: c
        image: kubus.io/hollow
        resources: { requests: { cpu: 100m, memory: 64Mi } }
`;

const autoscaler = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: web, namespace: ${ns} }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: web }
  minReplicas: 1
  maxReplicas: 4
  metrics:
  - type: Resource
    resource: { name: cpu, target: { type: Utilization, averageUtilization: 50 } }
  behavior:
    scaleDown: { stabilizationWindowSeconds: 3 }
`;

describe.runIf(runs)('the horizontal pod autoscaler on hollow pods', () => {
  let h: ApiHarness;
  let scratch: string;
  let agent: RunningAgent | undefined;
  const api = () => adminApi(h);
  const kubectl = async (...args: string[]): Promise<string> => {
    const result = await h.kubectl(args, { timeoutMs: 60_000 });
    expect(result.code, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result.stdout;
  };
  const replicas = async (): Promise<number | undefined> => (await api().get<Deployment>(refs.deployments, ns, 'web')).spec?.replicas;
  const hpa = () => api().get<HorizontalPodAutoscaler>(refs.horizontalpodautoscalers, ns, 'web');
  const podMetricsListed = async (): Promise<number> => {
    const listed = await callAs(h, 'GET', `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods`, { token: h.token });
    return listed.status === 200 && Array.isArray(listed.json['items']) ? (listed.json['items'] as unknown[]).length : 0;
  };

  beforeAll(async () => {
    h = await startApiHarness({ members: 1, serverArgs: ['--horizontal-pod-autoscaler-sync-period', '1s'] });
    scratch = mkdtempSync(join(tmpdir(), 'kubus-test-h7-hpa-'));
    const bootstrap = newBootstrapToken(new Date(Date.now() + 30 * 60_000));
    expect((await callAs(h, 'POST', '/api/v1/namespaces/kube-system/secrets', { token: h.token, body: bootstrap.secret })).status).toBe(201);
    agent = await startAgent({
      join: { node: 'hpa-node', dir: join(scratch, 'agent'), server: h.url, token: bootstrap.token, caCertHash: caCertHash(h.caCertPem) },
      runtime: 'hollow',
      node: defaultNodeConfig({ nodeIp, services: defaultServicesConfig(nodeIp, { proxy: false, clusterDns: null }) }),
      metricsIntervalMs: 1_000,
      logger: createJsonLogger({ level: 'warn' }),
    });
    await agent.connected();
    await kubectl('apply', '-f', h.manifest('ns.yaml', `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`));
    await waitUntil('the default ServiceAccount', async () => (await api().get(refs.serviceaccounts, ns, 'default').catch(() => null)) !== null, { timeoutMs: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await agent?.stop({ drain: false });
    await h?.stop();
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it('scales a Deployment up on high CPU and back down after the stabilization window', async () => {
    await kubectl('apply', '-f', h.manifest('web.yaml', deployment('200m')));
    await kubectl('apply', '-f', h.manifest('hpa.yaml', autoscaler));
    // Measured, not asserted (timing claims are the benchmarks'): from the later of the HPA's
    // creation and its pod's first PodMetrics to the scale, against one sync period + one report.
    const appliedMs = Date.now();
    let metricsMs: number | null = null;
    await waitUntil('the HPA scales web to 4', async () => {
      if (metricsMs === null && (await podMetricsListed()) > 0) metricsMs = Date.now();
      return (await replicas()) === 4;
    }, { timeoutMs: 45_000, intervalMs: 100 });
    const from = Math.max(appliedMs, metricsMs ?? appliedMs);
    console.info(`hpa: scaled 1 → 4 ${Date.now() - from} ms after the HPA existed and its pod had metrics (sync period 1,000 ms + metrics interval 1,000 ms)`);
    const events = (await api().list<Event>(refs.events, { namespace: ns })).items.filter((e) => e.involvedObject.kind === 'HorizontalPodAutoscaler');
    expect(events.map((e) => `${e.reason}: ${e.message}`)).toContain('SuccessfulRescale: New size: 4; reason: cpu resource utilization (percentage of request) above target');
    // The next sync reads the new scale: currentReplicas follows.
    await waitUntil('the HPA status shows the scale', async () => {
      const shown = (await hpa()).status;
      return shown?.desiredReplicas === 4 && shown.currentReplicas === 4;
    }, { timeoutMs: 15_000, intervalMs: 250 });
    const status = (await hpa()).status;
    expect(status?.lastScaleTime).toBeDefined();
    expect(status?.conditions?.find((c) => c.type === 'ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetricFound' });
    expect(status?.currentMetrics?.[0]?.resource?.name).toBe('cpu');
    expect(await kubectl('get', 'hpa', 'web', '-n', ns)).toMatch(/web\s+Deployment\/web\s+cpu: \d+%\/50%\s+1\s+4\s+4/);
    const described = await kubectl('describe', 'hpa', 'web', '-n', ns);
    expect(described).toMatch(/ScalingActive\s+True\s+ValidMetricFound/);
    expect(described).toMatch(/SuccessfulRescale\s+.*New size: 4; reason: cpu resource utilization \(percentage of request\) above target/);

    // A patch, not a second apply: the replicas the HPA set must stay the HPA's.
    await kubectl('patch', 'deployment', 'web', '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { template: { metadata: { annotations: { 'kubus.io/hollow-cpu': '10m' } } } } }));
    await waitUntil('the HPA scales web back to 1', async () => (await replicas()) === 1, { timeoutMs: 60_000, intervalMs: 250 });
    const after = (await api().list<Event>(refs.events, { namespace: ns })).items.filter((e) => e.reason === 'SuccessfulRescale');
    expect(after.map((e) => e.message)).toContain('New size: 1; reason: All metrics below target');
  }, 150_000);

  it('kubectl autoscale (a protobuf autoscaling/v1 body) creates an HPA the controller runs', async () => {
    await kubectl('delete', 'hpa', 'web', '-n', ns);
    expect(await kubectl('autoscale', 'deployment', 'web', '-n', ns, '--min=1', '--max=3', '--cpu-percent=70')).toContain('horizontalpodautoscaler.autoscaling/web autoscaled');
    const created = await hpa();
    expect(created.spec).toMatchObject({ minReplicas: 1, maxReplicas: 3, scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' } });
    expect(created.spec?.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    await waitUntil('the controller syncs the new HPA', async () => (await hpa()).status?.conditions?.some((c) => c.type === 'ScalingActive' && c.status === 'True') === true, { timeoutMs: 30_000, intervalMs: 250 });
  }, 60_000);
});
