/**
 * The observers that feed telemetry (issue 13), on simulated time: the runtime decorator counts,
 * times and counts errors per kubelet operation name and passes everything through; the pod
 * tracker times first seen → Running and → Ready once per pod, never times a pod an earlier agent
 * run started, and keeps the by-phase gauge equal to the pods it holds; the API request labels
 * follow kube-apiserver's (LIST vs GET, WATCH, CONNECT, scope), and unknown paths stay unlabelled.
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { SimulatedClock } from '../../bus/index.js';
import { createAgentTelemetry, type AgentTelemetry } from '../../bus/telemetry/index.js';
import { instrumentRuntime } from '../../nodeagent/runtime/instrumented.js';
import { createPodTelemetry } from '../../nodeagent/pod-telemetry.js';
import type { ContainerRuntime } from '../../nodeagent/runtime/types.js';
import type { PodStatusSink } from '../../nodeagent/agent-context.js';
import { requestLabels } from '../../actors/apiserver/http/prometheus.js';

async function values(telemetry: AgentTelemetry, name: string): Promise<{ labels: Record<string, unknown>; value: number; metricName?: string }[]> {
  const metric = telemetry.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  return (await metric.get()).values as { labels: Record<string, unknown>; value: number; metricName?: string }[];
}

async function histogram(telemetry: AgentTelemetry, name: string): Promise<{ count: number; sum: number }> {
  const all = await values(telemetry, name);
  return { count: all.find((v) => v.metricName === `${name}_count`)?.value ?? 0, sum: all.find((v) => v.metricName === `${name}_sum`)?.value ?? 0 };
}

describe('instrumented runtime', () => {
  it('times each operation under its kubelet name, counts failures, and passes results and errors through', async () => {
    const clock = new SimulatedClock();
    const telemetry = createAgentTelemetry({ processMetrics: false });
    const inner = {
      name: 'hollow',
      runPodSandbox: async () => {
        clock.advance(250);
        return 'sandbox-1';
      },
      startContainer: async () => {
        throw new Error('boom');
      },
      onEvent: () => () => undefined,
    } as unknown as ContainerRuntime;
    const runtime = instrumentRuntime(inner, { metrics: telemetry.runtime, clock });
    expect(runtime.name).toBe('hollow');
    expect(await runtime.runPodSandbox({} as never)).toBe('sandbox-1');
    await expect(runtime.startContainer('c1')).rejects.toThrow('boom');
    const total = await values(telemetry, 'kubelet_runtime_operations_total');
    expect(total.map((v) => [v.labels.operation_type, v.value])).toEqual([['run_podsandbox', 1], ['start_container', 1]]);
    const errors = await values(telemetry, 'kubelet_runtime_operations_errors_total');
    expect(errors.map((v) => [v.labels.operation_type, v.value])).toEqual([['start_container', 1]]);
    const sums = (await values(telemetry, 'kubelet_runtime_operations_duration_seconds')).filter((v) => v.metricName?.endsWith('_sum'));
    expect(sums.find((v) => v.labels.operation_type === 'run_podsandbox')?.value).toBe(0.25);
  });
});

const pod = (uid: string, status?: Pod['status']): Pod => ({ metadata: { uid, name: uid, namespace: 'default' }, ...(status !== undefined ? { status } : {}) });
const running = (ready: boolean): NonNullable<Pod['status']> => ({ phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] });

describe('pod telemetry', () => {
  function setup() {
    const clock = new SimulatedClock();
    const telemetry = createAgentTelemetry({ processMetrics: false });
    const pods = createPodTelemetry({ metrics: telemetry.pods, clock });
    const written: string[] = [];
    const inner = { set: (p: Pod) => written.push(`set ${p.metadata?.uid}`), confirmDeletion: (p: Pod) => written.push(`delete ${p.metadata?.uid}`), pendingCount: () => 42 };
    const sink = pods.observe(inner as PodStatusSink & { pendingCount(): number });
    const phases = async () => Object.fromEntries((await values(telemetry, 'kubus_node_pods')).map((v) => [v.labels.phase, v.value]));
    return { clock, telemetry, pods, sink, written, phases };
  }

  it('times first seen → Running and → Ready once, and passes every call through', async () => {
    const { clock, telemetry, pods, sink, written, phases } = setup();
    pods.assigned({ type: 'upsert', pod: pod('a') });
    clock.advance(300);
    sink.set(pod('a'), { phase: 'Pending' });
    clock.advance(200);
    sink.set(pod('a'), running(false));
    expect(await phases()).toMatchObject({ Running: 1, Pending: 0 });
    clock.advance(500);
    sink.set(pod('a'), running(true));
    sink.set(pod('a'), running(true));
    expect(await histogram(telemetry, 'kubelet_pod_start_duration_seconds')).toEqual({ count: 1, sum: 0.5 });
    expect(await histogram(telemetry, 'kubus_pod_ready_duration_seconds')).toEqual({ count: 1, sum: 1 });
    expect(sink.pendingCount()).toBe(42);
    sink.confirmDeletion(pod('a'));
    expect(written).toEqual(['set a', 'set a', 'set a', 'set a', 'delete a']);
    expect(await phases()).toMatchObject({ Running: 0 });
    expect(pods.trackedCount()).toBe(0);
  });

  it('does not time a pod an earlier agent run started, nor one met only through its status', async () => {
    const { clock, telemetry, pods, sink, phases } = setup();
    sink.set(pod('restored'), running(true));
    pods.assigned({ type: 'sync', pods: [pod('restored'), pod('adopted', { phase: 'Running', startTime: '2026-01-01T00:00:00Z' })] });
    clock.advance(1000);
    sink.set(pod('adopted'), running(true));
    expect(await histogram(telemetry, 'kubelet_pod_start_duration_seconds')).toEqual({ count: 0, sum: 0 });
    expect(await phases()).toMatchObject({ Running: 2 });
    // A sync without them: no longer this node's.
    pods.assigned({ type: 'sync', pods: [] });
    expect(await phases()).toMatchObject({ Running: 0 });
  });
});

describe('API request labels', () => {
  const labels = (method: string, path: string) => requestLabels(method, new URL(path, 'https://x.invalid'));
  it('name verbs and scopes as kube-apiserver does', () => {
    expect(labels('GET', '/api/v1/pods')).toEqual({ verb: 'LIST', group: '', version: 'v1', resource: 'pods', subresource: '', scope: 'cluster' });
    expect(labels('GET', '/api/v1/namespaces/d/pods')).toMatchObject({ verb: 'LIST', scope: 'namespace' });
    expect(labels('GET', '/api/v1/namespaces/d/pods?watch=true')).toMatchObject({ verb: 'WATCH', resource: 'pods' });
    expect(labels('GET', '/api/v1/namespaces/d/pods/p')).toMatchObject({ verb: 'GET', scope: 'resource' });
    expect(labels('POST', '/api/v1/namespaces/d/pods/p/exec?command=sh')).toMatchObject({ verb: 'CONNECT', subresource: 'exec' });
    expect(labels('GET', '/api/v1/namespaces/d/pods/p/log')).toMatchObject({ verb: 'GET', subresource: 'log' });
    expect(labels('DELETE', '/apis/apps/v1/namespaces/d/deployments')).toMatchObject({ verb: 'DELETECOLLECTION', group: 'apps', resource: 'deployments' });
  });
  it('leave paths that are not API resources unlabelled (bounded label values)', () => {
    expect(labels('GET', '/metrics')).toEqual({ verb: 'GET', group: '', version: '', resource: '', subresource: '', scope: '' });
    expect(labels('GET', '/api/v1/made-up-things/x')).toMatchObject({ resource: '' });
  });
});
