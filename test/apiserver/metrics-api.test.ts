/**
 * metrics.k8s.io on the members, pure and in-process parts (actors/apiserver/metrics): which
 * reports are accepted (the subject names the node; malformed ones dropped whole), the view
 * (latest per node, stale after three intervals, a newer report of a moved pod wins), the object
 * shapes kubectl top reads (`n` CPU, `Ki` memory, Go duration windows), and the handlers over a fake
 * store: lists joined with pods (labels, label and field selectors, uid check), gets with
 * metrics-server's NotFound messages, the Table `kubectl get` asks for, RBAC asked for the metrics.k8s.io resource, and 405 for
 * anything but get and list. Last, the view fed over a simulated bus: a report on another node's
 * subject or undecodable bytes are dropped (and logged once), and nothing is kept after stop; and
 * the group in legacy and aggregated discovery.
 */
import { describe, expect, it } from 'vitest';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Prng, SimNetwork, SimulatedClock, createJsonLogger, encode } from '../../bus/index.js';
import { subjects } from '../../bus/subjects.js';
import { aggregatedDiscovery, legacyGroupList, resourceList } from '../../actors/apiserver/discovery.js';
import type { NodeMetricsReport } from '../../nodeagent/metrics/protocol.js';
import {
  MetricsView, checkReport, cpuCell, formatCpu, memoryCell, formatMemory, formatWindow, metricsResources, serveMetrics, startMetricsView,
} from '../../actors/apiserver/metrics/index.js';
import type { AuthorizationRequest } from '../../actors/apiserver/http/admission.js';
import type { RequestContext, ServerContext } from '../../actors/apiserver/http/context.js';
import type { ObjectStorage } from '../../actors/apiserver/http/objects-port.js';
import { defaultHttpLimits } from '../../actors/apiserver/http/limits.js';
import { matchesSelector, parseObjectSelector } from '../../actors/apiserver/registry/selectors.js';
import { ApiError, apiErrors } from '../../actors/apiserver/status.js';
import type { KubeObject } from '../../actors/apiserver/types.js';

const report = (node: string, timestampMs: number, pods: NodeMetricsReport['pods'] = []): NodeMetricsReport => ({
  v: 1, node, timestampMs, windowMs: 15_000, usage: { cpuNanoCores: 250_000_000, memoryWorkingSetBytes: 2 ** 30 }, pods,
});
const podUsage = (name: string, uid = `uid-${name}`, namespace = 'default') => ({
  namespace, name, uid, containers: [{ name: 'app', cpuNanoCores: 1_500_000, memoryWorkingSetBytes: 20 * 2 ** 20 }],
});

describe('report check', () => {
  it('accepts a well-formed report for the subject node', () => {
    expect(checkReport(report('n1', 1, [podUsage('web')]), 'n1').ok).toBe(true);
  });
  it('refuses a report naming another node, an unknown version, and bad numbers or shapes', () => {
    expect(checkReport(report('n2', 1), 'n1')).toMatchObject({ ok: false, reason: expect.stringContaining("node n1's subject") });
    expect(checkReport({ ...report('n1', 1), v: 2 }, 'n1').ok).toBe(false);
    expect(checkReport({ ...report('n1', 1), usage: { cpuNanoCores: -1, memoryWorkingSetBytes: 0 } }, 'n1').ok).toBe(false);
    expect(checkReport({ ...report('n1', 1), windowMs: 0 }, 'n1').ok).toBe(false);
    expect(checkReport(report('n1', 1, [{ ...podUsage('web'), containers: [{ name: 'app', cpuNanoCores: Number.NaN, memoryWorkingSetBytes: 1 }] }]), 'n1').ok).toBe(false);
    expect(checkReport(report('n1', 1, [{ ...podUsage('web'), name: '' }]), 'n1').ok).toBe(false);
    expect(checkReport('text', 'n1').ok).toBe(false);
  });
});

describe('metrics view', () => {
  it('keeps the latest report per node and ignores an older one arriving late', () => {
    const view = new MetricsView(new SimulatedClock());
    view.accept(report('n1', 2_000, [podUsage('web')]));
    view.accept(report('n1', 1_000, [podUsage('old')]));
    expect(view.node('n1')?.timestampMs).toBe(2_000);
    expect(view.pod('default', 'web')?.node).toBe('n1');
    expect(view.pod('default', 'old')).toBeUndefined();
  });
  it('forgets a node silent for three intervals, with its pods', () => {
    const clock = new SimulatedClock();
    const view = new MetricsView(clock);
    view.accept(report('n1', 1_000, [podUsage('web')]));
    clock.advance(44_000);
    expect(view.pods(null)).toHaveLength(1);
    clock.advance(1_000);
    expect(view.node('n1')).toBeUndefined();
    expect(view.pod('default', 'web')).toBeUndefined();
    expect(view.nodes()).toEqual([]);
    expect(view.size()).toBe(0);
  });
  it('serves a moved pod from the newer report; a pod gone from a node goes from the view', () => {
    const view = new MetricsView(new SimulatedClock());
    view.accept(report('n1', 1_000, [podUsage('web'), podUsage('db', 'u', 'data')]));
    view.accept(report('n2', 2_000, [podUsage('web')]));
    expect(view.pod('default', 'web')?.node).toBe('n2');
    view.accept(report('n1', 3_000, []));
    expect(view.pod('default', 'web')?.node).toBe('n2');
    expect(view.pod('data', 'db')).toBeUndefined();
    expect(view.pods('default').map((s) => s.pod.name)).toEqual(['web']);
  });
});

describe('shapes', () => {
  it('formats CPU in n, memory in Ki, windows as Go durations', () => {
    expect(formatCpu(1_500_000)).toBe('1500000n');
    expect(formatCpu(0)).toBe('0');
    expect(formatMemory(20 * 2 ** 20)).toBe('20480Ki');
    expect(formatMemory(100)).toBe('0');
    expect(formatWindow(15_000)).toBe('15s');
    expect(formatWindow(20_050)).toBe('20.05s');
    expect(formatWindow(90_000)).toBe('1m30s');
    expect(formatWindow(250)).toBe('250ms');
  });
});

/** A store of fixed pods and nodes, selecting as the real one does. */
function fakeStore(objects: { pods: KubeObject[]; nodes: KubeObject[] }): ObjectStorage {
  const pick = (resource: string) => (resource === 'pods' ? objects.pods : objects.nodes);
  const refuse = () => Promise.reject(new Error('not used'));
  return {
    list: async (info, namespace, opts) => {
      const selector = parseObjectSelector(info, opts);
      return { resourceVersion: '7', items: pick(info.resource).filter((o) => (namespace === null || o.metadata.namespace === namespace) && matchesSelector(selector, o)) };
    },
    get: async (info, namespace, name) => {
      const found = pick(info.resource).find((o) => o.metadata.name === name && (namespace === null || o.metadata.namespace === namespace));
      if (found === undefined) throw apiErrors.notFound(info.resource, info.group, name);
      return found;
    },
    create: refuse, update: refuse, guaranteedUpdate: refuse, delete: refuse, deleteCollection: refuse, watch: refuse,
  };
}

interface Answer { status: number; body: any }

async function call(options: { view: MetricsView | null; store: ObjectStorage; path: string; method?: string; accept?: string; authorize?: (r: AuthorizationRequest) => void }): Promise<Answer & { asked: AuthorizationRequest[] }> {
  const url = new URL(options.path, 'https://x.invalid');
  const segments = url.pathname.split('/').filter((s) => s !== '').slice(3);
  const namespaced = segments[0] === 'namespaces';
  const rest = namespaced ? segments.slice(2) : segments;
  const info = metricsResources.find((r) => r.resource === rest[0]);
  if (info === undefined) throw new Error(`no metrics resource in ${options.path}`);
  const asked: AuthorizationRequest[] = [];
  const answer: Answer = { status: 0, body: null };
  const res = {
    writeHead(status: number) { answer.status = status; return this; },
    end(text: string) { answer.body = JSON.parse(text); },
  } as unknown as ServerResponse;
  const server = {
    objects: options.store, limits: defaultHttpLimits, logger: createJsonLogger({ level: 'error', write: () => undefined }),
    clock: new SimulatedClock(), wallClock: () => new Date('2026-12-03T12:00:00Z'), watchSlots: { tryAcquire: () => null },
    authorizer: { authorize: async (r: AuthorizationRequest) => { asked.push(r); options.authorize?.(r); } },
    admission: { admit: async () => null },
  } as unknown as ServerContext;
  const ctx: RequestContext = {
    server, req: { method: options.method ?? 'GET', headers: options.accept !== undefined ? { accept: options.accept } : {} } as IncomingMessage, res, query: url.searchParams, user: { name: 'alice', uid: 'a', groups: [] },
    route: { type: 'resource', info, namespace: namespaced ? (segments[1] ?? null) : null, name: rest[1] ?? null, subresource: null },
  };
  try {
    await serveMetrics(ctx, options.view);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    answer.status = error.httpStatus;
    answer.body = { message: error.message, reason: error.reason };
  }
  return { ...answer, asked };
}

describe('handlers', () => {
  const pod = (name: string, labels: Record<string, string>, uid = `uid-${name}`, namespace = 'default'): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, uid, labels } });
  const store = fakeStore({
    pods: [pod('web-1', { app: 'web' }), pod('web-2', { app: 'web' }), pod('db', { app: 'db' }), pod('recreated', {}, 'new-uid'), pod('other', { app: 'web' }, 'uid-other', 'team')],
    nodes: [{ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { zone: 'a' } } }, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } }],
  });
  const view = new MetricsView(new SimulatedClock());
  view.accept(report('n1', Date.parse('2026-12-03T11:59:50.400Z'), [podUsage('web-1'), podUsage('web-2'), podUsage('db'), podUsage('recreated'), podUsage('other', 'uid-other', 'team')]));

  it('lists a namespace\'s PodMetrics with the pods\' labels, as kubectl top pod reads them', async () => {
    const answer = await call({ view, store, path: '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dweb' });
    expect(answer.status).toBe(200);
    expect(answer.body.kind).toBe('PodMetricsList');
    expect(answer.body.apiVersion).toBe('metrics.k8s.io/v1beta1');
    expect(answer.body.items).toEqual([
      {
        kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1',
        metadata: { name: 'web-1', namespace: 'default', creationTimestamp: '2026-12-03T12:00:00Z', labels: { app: 'web' } },
        timestamp: '2026-12-03T11:59:50Z', window: '15s', containers: [{ name: 'app', usage: { cpu: '1500000n', memory: '20480Ki' } }],
      },
      expect.objectContaining({ metadata: expect.objectContaining({ name: 'web-2' }) }),
    ]);
    expect(answer.asked).toEqual([expect.objectContaining({ verb: 'list', namespace: 'default', info: expect.objectContaining({ group: 'metrics.k8s.io', resource: 'pods' }) })]);
  });

  it('leaves out a pod recreated under the same name (other uid); lists every namespace; selects by field', async () => {
    const all = await call({ view, store, path: '/apis/metrics.k8s.io/v1beta1/pods' });
    expect(all.body.items.map((i: any) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(['default/web-1', 'default/web-2', 'default/db', 'team/other']);
    const one = await call({ view, store, path: '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?fieldSelector=metadata.name%3Ddb' });
    expect(one.body.items.map((i: any) => i.metadata.name)).toEqual(['db']);
    const bad = await call({ view, store, path: '/apis/metrics.k8s.io/v1beta1/pods?fieldSelector=spec.nodeName%3Dn1' });
    expect(bad.status).toBe(400);
  });

  it('gets one PodMetrics, or metrics-server\'s NotFound', async () => {
    expect((await call({ view, store, path: '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-2' })).body.metadata.name).toBe('web-2');
    const recreated = await call({ view, store, path: '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/recreated' });
    expect(recreated).toMatchObject({ status: 404, body: { message: 'podmetrics.metrics.k8s.io "default/recreated" not found' } });
    expect((await call({ view, store, path: '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope' })).status).toBe(404);
  });

  it('lists and gets NodeMetrics with the Node\'s labels; a node without a report is absent', async () => {
    const list = await call({ view, store, path: '/apis/metrics.k8s.io/v1beta1/nodes' });
    expect(list.body.kind).toBe('NodeMetricsList');
    expect(list.body.items).toEqual([{
      kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: 'n1', creationTimestamp: '2026-12-03T12:00:00Z', labels: { zone: 'a' } },
      timestamp: '2026-12-03T11:59:50Z', window: '15s', usage: { cpu: '250000000n', memory: '1048576Ki' },
    }]);
    expect((await call({ view, store, path: '/apis/metrics.k8s.io/v1beta1/nodes?labelSelector=zone%3Db' })).body.items).toEqual([]);
    expect((await call({ view, store, path: '/apis/metrics.k8s.io/v1beta1/nodes/n1' })).body.usage.cpu).toBe('250000000n');
    expect(await call({ view, store, path: '/apis/metrics.k8s.io/v1beta1/nodes/n2' })).toMatchObject({ status: 404, body: { message: 'nodemetrics.metrics.k8s.io "n2" not found' } });
  });

  it('prints the Table kubectl get asks for: Name, CPU, Memory, Window, a pod summed over its containers', async () => {
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    const pods = await call({ view, store, accept, path: '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dweb' });
    expect(pods.body.kind).toBe('Table');
    expect(pods.body.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'CPU', 'Memory', 'Window']);
    expect(pods.body.rows.map((r: any) => r.cells)).toEqual([['web-1', '1500u', '20Mi', '15s'], ['web-2', '1500u', '20Mi', '15s']]);
    expect(pods.body.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'web-1' } });
    const node = await call({ view, store, accept, path: '/apis/metrics.k8s.io/v1beta1/nodes/n1' });
    expect(node.body.rows.map((r: any) => r.cells)).toEqual([['n1', '250m', '1Gi', '15s']]);
    expect([cpuCell(2e9), cpuCell(7), memoryCell(1000), memoryCell(3 * 2 ** 20)]).toEqual(['2', '7n', '1000', '3Mi']);
  });

  it('asks RBAC for the metrics.k8s.io resource and verb; refuses writes and watches; 503 without a view', async () => {
    const forbidden = await call({ view, store, path: '/apis/metrics.k8s.io/v1beta1/nodes/n1', authorize: () => { throw apiErrors.forbidden('no'); } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.asked[0]).toMatchObject({ verb: 'get', name: 'n1', info: { group: 'metrics.k8s.io', resource: 'nodes' } });
    expect((await call({ view, store, path: '/apis/metrics.k8s.io/v1beta1/nodes', method: 'POST' })).status).toBe(405);
    expect((await call({ view, store, path: '/apis/metrics.k8s.io/v1beta1/nodes?watch=true' })).status).toBe(405);
    expect((await call({ view: null, store, path: '/apis/metrics.k8s.io/v1beta1/nodes' })).status).toBe(503);
  });
});

describe('the view fed from the bus', () => {
  it('keeps what agents publish on their own subjects; a forged or undecodable report is dropped and logged once a minute', () => {
    const clock = new SimulatedClock();
    const network = new SimNetwork({ clock, random: new Prng(6) });
    const lines: string[] = [];
    const running = startMetricsView({ bus: network.connect('member'), cluster: 'c1', clock, logger: createJsonLogger({ level: 'warn', write: (line) => lines.push(line) }) });
    const agent = network.connect('agent');
    const on = subjects('c1');
    agent.publish(on.nodeMetrics('n1'), encode(report('n1', 1_000, [podUsage('web')])));
    agent.publish(on.nodeMetrics('n2'), encode(report('n1', 2_000, [podUsage('forged')])));
    agent.publish(on.nodeMetrics('n3'), new Uint8Array([0xc1]));
    clock.advance(1_000);
    expect(running.view.nodes().map((r) => r.node)).toEqual(['n1']);
    expect(running.view.pod('default', 'web')?.node).toBe('n1');
    expect(running.view.pod('default', 'forged')).toBeUndefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('metrics report refused');
    running.stop();
    agent.publish(on.nodeMetrics('n4'), encode(report('n4', 3_000)));
    clock.advance(1_000);
    expect(running.view.node('n4')).toBeUndefined();
  });
});

describe('discovery', () => {
  it('lists metrics.k8s.io/v1beta1 in both shapes kubectl reads (top checks the group and version only)', () => {
    const legacy = legacyGroupList() as { groups: { name: string; versions: { version: string }[]; preferredVersion: { version: string } }[] };
    expect(legacy.groups.find((g) => g.name === 'metrics.k8s.io')).toMatchObject({ versions: [{ version: 'v1beta1' }], preferredVersion: { version: 'v1beta1' } });
    const aggregated = aggregatedDiscovery(false) as { items: { metadata: { name: string }; versions: { version: string; resources: { resource: string; scope: string; responseKind: { kind: string }; verbs: string[] }[] }[] }[] };
    const group = aggregated.items.find((g) => g.metadata.name === 'metrics.k8s.io');
    expect(group?.versions.map((v) => v.version)).toEqual(['v1beta1']);
    expect(group?.versions[0]?.resources.map((r) => [r.resource, r.scope, r.responseKind.kind, r.verbs])).toEqual([
      ['nodes', 'Cluster', 'NodeMetrics', ['get', 'list']], ['pods', 'Namespaced', 'PodMetrics', ['get', 'list']],
    ]);
    expect(resourceList('metrics.k8s.io', 'v1beta1')).toMatchObject({ groupVersion: 'metrics.k8s.io/v1beta1', resources: [{ name: 'nodes', kind: 'NodeMetrics' }, { name: 'pods', kind: 'PodMetrics' }] });
  });
});
