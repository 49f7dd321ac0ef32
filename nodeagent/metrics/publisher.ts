/**
 * The agent's metrics publisher: every interval it reads the runtime's running containers and
 * their stats and the host's CPU and memory, builds a NodeMetricsReport (report-builder.ts) and
 * publishes it on `subjects.nodeMetrics(node)` (msgpackr, the bus codec). The first collection
 * happens at start, so the first report follows one interval later.
 *
 * Decision: a timer chain, not a fixed-rate interval: the next collection is scheduled when this
 * one ends, so a slow runtime (Docker's stats take ~1 s each) never stacks collections up; the
 * window in the report is the true time between the two collections.
 *
 * Decision: hollow nodes report the sum of their pods as the node's usage: hundreds of them share
 * one host, whose /proc says nothing about any one of them.
 */
import { encode } from '../../bus/codec.js';
import { subjects } from '../../bus/subjects.js';
import type { TimerId } from '../../bus/clock.js';
import type { AgentContext } from '../agent-context.js';
import { runtimeLabels, type ContainerRuntime, type ContainerStats, type ContainerStatus } from '../runtime/types.js';
import { readHostUsage, type HostUsage } from './host-usage.js';
import { metricsCollectorLimits } from './limits.js';
import { metricsProtocolLimits } from './protocol.js';
import { buildReport, emptyCollectorMemory, type Collection, type ContainerReading } from './report-builder.js';

export interface MetricsPublisherOptions {
  /** Default metricsProtocolLimits.intervalMs; tests use less. */
  readonly intervalMs?: number;
  /** The host's reading; default /proc (host-usage.ts). Tests inject one. */
  readonly readHost?: () => HostUsage | null;
}

type PublisherContext = Pick<AgentContext, 'bus' | 'cluster' | 'nodeName' | 'clock' | 'wallClock' | 'logger'>;

export function startMetricsPublisher(ctx: PublisherContext, deps: { readonly runtime: ContainerRuntime; readonly options?: MetricsPublisherOptions }): { stop(): Promise<void> } {
  const intervalMs = Math.max(metricsCollectorLimits.intervalMsMin, deps.options?.intervalMs ?? metricsProtocolLimits.intervalMs);
  const readHost = deps.options?.readHost ?? readHostUsage;
  const subject = subjects(ctx.cluster).nodeMetrics(ctx.nodeName);
  const logger = ctx.logger.child({ component: 'metrics-publisher' });
  let memory = emptyCollectorMemory;
  let stopped = false;
  let timer: TimerId | null = null;
  let running: Promise<void> = Promise.resolve();
  let lastFailureLogMs = -Infinity;
  const failed = (message: string, fields: Record<string, unknown>): void => {
    const nowMs = ctx.clock.now();
    if (nowMs - lastFailureLogMs < metricsCollectorLimits.failureLogEveryMs) return;
    lastFailureLogMs = nowMs;
    logger.warn(`${message} (further failures for a minute are not logged)`, fields);
  };

  async function collectAndPublish(): Promise<void> {
    const containers = await readContainers(ctx, deps.runtime);
    const nowMs = ctx.wallClock().getTime();
    // The host's rate is timed on the monotonic clock: sub-millisecond, and immune to wall-clock steps.
    const host = deps.runtime.name === 'hollow' ? 'sum-of-pods' as const : hostReading(readHost, ctx.clock.now());
    const collection: Collection = { node: ctx.nodeName, nowMs, containers, host };
    const built = buildReport(collection, memory);
    memory = built.memory;
    if (built.podsLeftOut > 0) failed('metrics report truncated', { podsLeftOut: built.podsLeftOut, podsPerReportMax: metricsProtocolLimits.podsPerReportMax });
    if (built.report !== null && !stopped) ctx.bus.publish(subject, encode(built.report));
  }

  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = ctx.clock.setTimeout(() => {
      timer = null;
      const startedMs = ctx.clock.now();
      running = collectAndPublish()
        .catch((error: unknown) => failed('metrics collection failed', { error: String(error) }))
        .finally(() => schedule(Math.max(0, intervalMs - (ctx.clock.now() - startedMs))));
    }, delayMs);
  };
  schedule(0);

  return {
    async stop() {
      stopped = true;
      if (timer !== null) ctx.clock.clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}

function hostReading(readHost: () => HostUsage | null, nowMs: number): Collection['host'] {
  const usage = readHost();
  return usage === null ? null : { ...usage, timestampMs: nowMs };
}

/** Running containers the agent started (they carry the pod labels), with their stats, at most `statsConcurrencyMax` calls at once. */
async function readContainers(ctx: PublisherContext, runtime: ContainerRuntime): Promise<ContainerReading[]> {
  const listed = await runtime.listContainers();
  const running = listed.filter((c) => c.state === 'running' && (c.labels[runtimeLabels.podUid] ?? '') !== '');
  const readings: ContainerReading[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < running.length) {
      const container = running[next++] as ContainerStatus;
      const stats = await statsWithin(ctx, runtime, container.id);
      readings.push({
        containerId: container.id,
        podUid: container.labels[runtimeLabels.podUid] ?? '',
        podName: container.labels[runtimeLabels.podName] ?? '',
        podNamespace: container.labels[runtimeLabels.podNamespace] ?? '',
        containerName: container.labels[runtimeLabels.containerName] ?? container.name,
        startedAtMs: container.startedAtMs,
        stats: stats === null ? null : { cpuUsageNanos: stats.cpuUsageNanos, memoryWorkingSetBytes: stats.memoryWorkingSetBytes, timestampMs: stats.timestampMs },
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(metricsCollectorLimits.statsConcurrencyMax, running.length) }, worker));
  return readings;
}

/** One container's stats, or null when the call fails or outlives `statsTimeoutMs`. */
async function statsWithin(ctx: PublisherContext, runtime: ContainerRuntime, containerId: string): Promise<ContainerStats | null> {
  let timer: TimerId | null = null;
  const late = new Promise<null>((resolve) => { timer = ctx.clock.setTimeout(() => resolve(null), metricsCollectorLimits.statsTimeoutMs); });
  try {
    return await Promise.race([runtime.containerStats(containerId).catch(() => null), late]);
  } finally {
    if (timer !== null) ctx.clock.clearTimeout(timer);
  }
}
