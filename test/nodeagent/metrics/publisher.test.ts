/**
 * The publisher loop (nodeagent/metrics/publisher.ts) on a hollow runtime and a recording bus:
 * at start it only reads, one interval later it publishes a NodeMetricsReport on the node's own
 * metrics subject (bus codec), with the pod found by its runtime labels and the hollow node's
 * usage the sum of its pods; after stop() nothing more is published.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock, createJsonLogger, decode, type Bus, type BusMessage, type Clock, type TimerId } from '../../../bus/index.js';
import { startMetricsPublisher, type NodeMetricsReport } from '../../../nodeagent/metrics/index.js';
import { HollowRuntime, hollowAnnotations } from '../../../nodeagent/runtime/hollow.js';
import { runtimeLabels, type PodSandboxConfig } from '../../../nodeagent/runtime/types.js';
import { waitUntil } from '../../support/wait.js';

const logger = createJsonLogger({ level: 'error', write: () => undefined });

function recordingBus(): Bus & { readonly sent: BusMessage[] } {
  const sent: BusMessage[] = [];
  return {
    name: 'recording', sent,
    publish: (subject, data) => { sent.push({ subject, data, reply: null }); },
    subscribe: () => { throw new Error('not used'); },
    request: () => Promise.reject(new Error('not used')),
    respond: () => undefined,
    close: async () => undefined,
  };
}

/** The system clock, counting timers set and neither fired nor cleared. */
function countingClock(): Clock & { pending(): number } {
  const inner = new SystemClock();
  const live = new Set<TimerId>();
  return {
    now: () => inner.now(),
    setTimeout: (callback, delayMs) => {
      const id: TimerId = inner.setTimeout(() => { live.delete(id); callback(); }, delayMs);
      live.add(id);
      return id;
    },
    clearTimeout: (id) => { live.delete(id); inner.clearTimeout(id); },
    pending: () => live.size,
  };
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe('metrics publisher', () => {
  it('publishes the node report every interval on its own subject, and stops', async () => {
    const clock = countingClock();
    const runtime = new HollowRuntime({ dir: '/nonexistent', podCidr: () => null, nodeIp: '127.0.0.1', clock, logger });
    const sandboxConfig: PodSandboxConfig = {
      uid: 'u1', name: 'busy', namespace: 'team', attempt: 0, hostname: 'busy', labels: {}, hostNetwork: false, logDirectory: '/nonexistent', portMappings: [],
      annotations: { [hollowAnnotations.cpu]: '2', [hollowAnnotations.memory]: '1Gi' },
    };
    const sandbox = await runtime.runPodSandbox(sandboxConfig);
    const labels = { [runtimeLabels.podUid]: 'u1', [runtimeLabels.podName]: 'busy', [runtimeLabels.podNamespace]: 'team', [runtimeLabels.containerName]: 'app' };
    await runtime.startContainer(await runtime.createContainer(sandbox, {
      name: 'app', image: 'x', command: [], args: [], env: [], mounts: [], resources: {}, logPath: '/nonexistent/log', attempt: 0, labels,
    }, sandboxConfig));
    // A container without the agent's labels (not ours) is not reported.
    await runtime.startContainer(await runtime.createContainer(sandbox, {
      name: 'stray', image: 'x', command: [], args: [], env: [], mounts: [], resources: {}, logPath: '/nonexistent/log2', attempt: 0, labels: {},
    }, sandboxConfig));
    const bus = recordingBus();
    const publisher = startMetricsPublisher({ bus, cluster: 'c1', nodeName: 'hollow-1', clock, wallClock: () => new Date(), logger }, { runtime, options: { intervalMs: 200 } });
    stops.push(() => publisher.stop());
    await waitUntil('two reports', () => bus.sent.length >= 2, { timeoutMs: 10_000 });
    const message = bus.sent[1] as BusMessage;
    expect(message.subject).toBe('kubus.c1.metrics.node.hollow-1');
    const report = decode<NodeMetricsReport>(message.data);
    expect(report.node).toBe('hollow-1');
    expect(report.windowMs).toBeGreaterThanOrEqual(100);
    expect(report.pods).toHaveLength(1);
    const pod = report.pods[0];
    expect(pod).toMatchObject({ namespace: 'team', name: 'busy', uid: 'u1' });
    expect(pod?.containers.map((c) => c.name)).toEqual(['app']);
    // Two cores, within the rounding of millisecond timestamps over a ~200 ms window.
    expect(Math.abs((pod?.containers[0]?.cpuNanoCores ?? 0) - 2e9)).toBeLessThan(0.05e9);
    expect(pod?.containers[0]?.memoryWorkingSetBytes).toBe(2 ** 30);
    expect(report.usage.memoryWorkingSetBytes).toBe(2 ** 30);
    await publisher.stop();
    // Stopped: no timer of the publisher is left to fire, so nothing more can be published.
    expect(clock.pending()).toBe(0);
  });
});
