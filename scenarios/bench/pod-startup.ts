/**
 * One pod-startup measurement (issue 13 §4) against a running cluster: create `pods` pods in a
 * fresh namespace, `concurrency` creates in flight, and time each from the moment its create was
 * sent to the moment a watch on the namespace first shows it Running, then Ready (as Kubernetes'
 * pod startup SLI: creation to observed running, image present, stateless pods). Pure helpers
 * (pod manifest, summary) are exported for the table.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeHttp } from './kube-http.js';
import { percentile } from './workload.js';

export interface StartupOptions {
  readonly namespace: string;
  readonly pods: number;
  readonly concurrency: number;
  /** Image and command of the one container (per runtime). */
  readonly image: string;
  readonly command: readonly string[];
  /** The run gives up waiting for pods after this. */
  readonly deadlineMs: number;
  readonly progress: (line: string) => void;
}

export interface StartupResult {
  /** ms from create sent to the pod seen bound to a node (the scheduler's part), sorted. */
  readonly scheduledMs: readonly number[];
  /** ms from create sent to Running observed, per pod that got there, sorted. */
  readonly runningMs: readonly number[];
  readonly readyMs: readonly number[];
  /** Pods that were not Running/Ready by the deadline. */
  readonly notRunning: number;
  readonly notReady: number;
  /** Pods created (the denominator of the percentiles). */
  readonly created: number;
  /** Creates refused (after retries). */
  readonly createFailures: number;
  /** Wall time from the first create to the last Ready (or the deadline). */
  readonly totalMs: number;
  /** Nodes the pods ran on, with counts. */
  readonly nodes: Readonly<Record<string, number>>;
}

export const podStartupLimits = {
  /** A create refused with a retryable answer (429, 5xx, or the namespace's ServiceAccount not there yet) is tried again this many times. */
  createAttemptsMax: 20,
  createRetryMs: 250,
  /** How often the deadline and the watch are checked while waiting (a sampling period, not a wait for state). */
  checkMs: 100,
} as const;

export function benchPod(name: string, options: Pick<StartupOptions, 'namespace' | 'image' | 'command'>): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: options.namespace, labels: { app: 'bench-pods' } },
    spec: {
      terminationGracePeriodSeconds: 0, automountServiceAccountToken: false, enableServiceLinks: false,
      containers: [{ name: 'main', image: options.image, imagePullPolicy: 'Never', command: [...options.command] }],
    },
  };
}

const isReady = (pod: Pod): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function measurePodStartup(api: KubeHttp, options: StartupOptions): Promise<StartupResult> {
  const { namespace } = options;
  const created = await api.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  if (created.status !== 201 && created.status !== 409) throw new Error(`creating namespace ${namespace}: HTTP ${created.status}`);
  const sentAt = new Map<string, number>();
  const scheduledAt = new Map<string, number>();
  const runningAt = new Map<string, number>();
  const readyAt = new Map<string, number>();
  const nodes: Record<string, number> = {};
  let resourceVersion = '';
  let stopped = false;
  let stream: { stop(): void } | null = null;
  const onEvent = (event: { type: string; object: unknown }): void => {
    const now = performance.now();
    const pod = event.object as Pod;
    if (event.type === 'ERROR') return;
    resourceVersion = pod.metadata?.resourceVersion ?? resourceVersion;
    const name = pod.metadata?.name ?? '';
    if (pod.spec?.nodeName !== undefined && !scheduledAt.has(name)) scheduledAt.set(name, now);
    if (pod.status?.phase === 'Running' && !runningAt.has(name)) {
      runningAt.set(name, now);
      const node = pod.spec?.nodeName ?? '?';
      nodes[node] = (nodes[node] ?? 0) + 1;
    }
    if (isReady(pod) && !readyAt.has(name)) readyAt.set(name, now);
  };
  // Re-watched from the last revision seen if the server ends the stream (its timeout) before the run is over.
  const startWatch = (): void => {
    if (stopped) return;
    const from = resourceVersion === '' ? '' : `&resourceVersion=${resourceVersion}`;
    stream = api.watch(`/api/v1/namespaces/${namespace}/pods?watch=true&timeoutSeconds=1800${from}`, onEvent, () => setTimeout(startWatch, podStartupLimits.createRetryMs));
  };
  startWatch();

  const names = Array.from({ length: options.pods }, (_, i) => `bench-${i.toString().padStart(4, '0')}`);
  let createFailures = 0;
  const firstSentMs = performance.now();
  const createOne = async (name: string): Promise<void> => {
    for (let attempt = 1; attempt <= podStartupLimits.createAttemptsMax; attempt++) {
      const sent = performance.now();
      const reply = await api.call('POST', `/api/v1/namespaces/${namespace}/pods`, benchPod(name, options)).catch(() => ({ status: 0, body: null }));
      if (reply.status === 201) {
        // The time of the attempt that succeeded: a refused attempt created nothing.
        sentAt.set(name, sent);
        return;
      }
      await sleep(podStartupLimits.createRetryMs);
    }
    createFailures++;
  };
  let next = 0;
  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    while (next < names.length) {
      const name = names[next++];
      if (name !== undefined) await createOne(name);
    }
  }));
  options.progress(`    ${sentAt.size}/${options.pods} pods created in ${Math.round(performance.now() - firstSentMs)} ms`);
  const deadline = firstSentMs + options.deadlineMs;
  let lastReport = performance.now();
  while (readyAt.size < sentAt.size && performance.now() < deadline) {
    await sleep(podStartupLimits.checkMs);
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      options.progress(`    ${runningAt.size} Running, ${readyAt.size} Ready of ${sentAt.size}`);
    }
  }
  const totalMs = Math.max(...[...readyAt.values(), firstSentMs]) - firstSentMs;
  stopped = true;
  (stream as { stop(): void } | null)?.stop();
  const since = (at: Map<string, number>): number[] => [...at].flatMap(([name, t]) => {
    const sent = sentAt.get(name);
    return sent === undefined ? [] : [t - sent];
  }).sort((a, b) => a - b);
  return {
    scheduledMs: since(scheduledAt), runningMs: since(runningAt), readyMs: since(readyAt), notRunning: sentAt.size - runningAt.size, notReady: sentAt.size - readyAt.size,
    created: sentAt.size, createFailures, totalMs, nodes,
  };
}

/** Deletes the namespace's pods at once (grace 0) and the namespace; best effort. */
export async function cleanUpNamespace(api: KubeHttp, namespace: string): Promise<void> {
  await api.call('DELETE', `/api/v1/namespaces/${namespace}/pods?gracePeriodSeconds=0`).catch(() => undefined);
  await api.call('DELETE', `/api/v1/namespaces/${namespace}`).catch(() => undefined);
}

export interface StartupSummary {
  readonly scheduledP50Ms: number;
  readonly runningP50Ms: number;
  readonly runningP99Ms: number;
  readonly readyP50Ms: number;
  readonly readyP99Ms: number;
  readonly readyMaxMs: number;
}

/**
 * p50/p99 over every pod created: one that never got Running/Ready counts as slower than all
 * (Infinity), so a run where pods fail cannot look fast.
 */
export function summarize(result: Pick<StartupResult, 'scheduledMs' | 'runningMs' | 'readyMs'>, created: number): StartupSummary {
  const padded = (values: readonly number[]): number[] => [...values, ...Array.from({ length: Math.max(0, created - values.length) }, () => Number.POSITIVE_INFINITY)];
  const running = padded(result.runningMs);
  const ready = padded(result.readyMs);
  return {
    scheduledP50Ms: percentile(padded(result.scheduledMs), 50),
    runningP50Ms: percentile(running, 50), runningP99Ms: percentile(running, 99),
    readyP50Ms: percentile(ready, 50), readyP99Ms: percentile(ready, 99), readyMaxMs: ready[ready.length - 1] ?? Number.NaN,
  };
}
