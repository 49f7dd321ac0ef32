/**
 * The agent's metrics, pure parts (nodeagent/metrics): CPU rates from two cumulative readings,
 * /proc parsing, and a collection turned into a NodeMetricsReport — first collection remembers
 * only (a container started since then has a rate at once), pods reported whole or not at all, the host's rate or (hollow) the sum of the pods, the
 * window between collections. Plus the hollow runtime's stats checked against its annotations:
 * a pod annotated `kubus.io/hollow-cpu: 250m` reports 250m.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock, createJsonLogger } from '../../../bus/index.js';
import {
  buildReport, cpuRateNanoCores, emptyCollectorMemory, hostMemoryWorkingSet, parseProcStatCpu, type Collection, type ContainerReading,
} from '../../../nodeagent/metrics/index.js';
import { HollowRuntime, hollowAnnotations } from '../../../nodeagent/runtime/hollow.js';
import { runtimeLabels, type PodSandboxConfig } from '../../../nodeagent/runtime/types.js';

const reading = (id: string, pod: string, cpuNanos: number, atMs: number, memory = 1024 * 1024, container = 'app'): ContainerReading => ({
  containerId: id, podUid: `uid-${pod}`, podName: pod, podNamespace: 'default', containerName: container, startedAtMs: null,
  stats: { cpuUsageNanos: cpuNanos, memoryWorkingSetBytes: memory, timestampMs: atMs },
});

describe('CPU rate', () => {
  it('is CPU nanoseconds per second of wall time', () => {
    // 0.5 s of CPU over 2 s: a quarter core.
    expect(cpuRateNanoCores({ cpuUsageNanos: 1e9, timestampMs: 1_000 }, { cpuUsageNanos: 1.5e9, timestampMs: 3_000 })).toBe(250_000_000);
  });
  it('has no rate at first sight, without elapsed time, or when the counter went backwards', () => {
    expect(cpuRateNanoCores(undefined, { cpuUsageNanos: 5, timestampMs: 1 })).toBeNull();
    expect(cpuRateNanoCores({ cpuUsageNanos: 5, timestampMs: 1 }, { cpuUsageNanos: 9, timestampMs: 1 })).toBeNull();
    expect(cpuRateNanoCores({ cpuUsageNanos: 9, timestampMs: 1 }, { cpuUsageNanos: 5, timestampMs: 2 })).toBeNull();
  });
});

describe('/proc readings', () => {
  it('counts user, nice, system, irq, softirq and steal as busy, in ns (USER_HZ 100)', () => {
    const stat = 'cpu  100 20 30 4000 50 6 7 8 0 0\ncpu0 50 10 15 2000 25 3 3 4 0 0\nintr 1\n';
    expect(parseProcStatCpu(stat)).toBe((100 + 20 + 30 + 6 + 7 + 8) * 1e7);
    expect(parseProcStatCpu('intr 1\n')).toBeNull();
  });
  it('takes memory in use as total minus available', () => {
    expect(hostMemoryWorkingSet('MemTotal:       2000 kB\nMemFree:         100 kB\nMemAvailable:    500 kB\n')).toBe(1500 * 1024);
    expect(hostMemoryWorkingSet('nothing')).toBeNull();
  });
});

describe('report from collections', () => {
  const host = (cpuNanos: number, atMs: number) => ({ cpuUsageNanos: cpuNanos, memoryWorkingSetBytes: 3 * 2 ** 30, timestampMs: atMs });

  it('first collection remembers only; the second reports rates over the window between them', () => {
    const first: Collection = { node: 'n1', nowMs: 10_000, containers: [reading('c1', 'web', 1e9, 10_000)], host: host(100e9, 10_000) };
    const one = buildReport(first, emptyCollectorMemory);
    expect(one.report).toBeNull();
    const second: Collection = { node: 'n1', nowMs: 25_000, containers: [reading('c1', 'web', 2.5e9, 25_000, 4096)], host: host(115e9, 25_000) };
    const two = buildReport(second, one.memory);
    expect(two.report).toEqual({
      v: 1, node: 'n1', timestampMs: 25_000, windowMs: 15_000,
      usage: { cpuNanoCores: 1e9, memoryWorkingSetBytes: 3 * 2 ** 30 },
      pods: [{ namespace: 'default', name: 'web', uid: 'uid-web', containers: [{ name: 'app', cpuNanoCores: 100_000_000, memoryWorkingSetBytes: 4096 }] }],
    });
  });

  it('leaves out a pod one of whose containers has no rate (new, or its stats failed), and forgets containers no longer listed', () => {
    const memory = buildReport({ node: 'n1', nowMs: 0, containers: [reading('a', 'two', 0, 0), reading('gone', 'old', 0, 0)], host: host(0, 0) }, emptyCollectorMemory).memory;
    const next = buildReport({
      node: 'n1', nowMs: 1_000, host: host(1e9, 1_000),
      containers: [reading('a', 'two', 1e8, 1_000), reading('b', 'two', 5, 1_000, 1, 'side'), { ...reading('x', 'failing', 0, 1_000), stats: null }],
    }, memory);
    expect(next.report?.pods).toEqual([]);
    expect([...next.memory.containers.keys()].sort()).toEqual(['a', 'b']);
    const third = buildReport({ node: 'n1', nowMs: 2_000, host: host(2e9, 2_000), containers: [reading('a', 'two', 2e8, 2_000), reading('b', 'two', 5, 2_000, 1, 'side')] }, next.memory);
    expect(third.report?.pods.map((p) => p.containers.map((c) => [c.name, c.cpuNanoCores]))).toEqual([[['app', 100_000_000], ['side', 0]]]);
  });

  it('gives a container started since the previous collection a rate at once, from zero at its start; not one older than that', () => {
    const memory = buildReport({ node: 'n1', nowMs: 10_000, containers: [], host: host(0, 10_000) }, emptyCollectorMemory).memory;
    const fresh = { ...reading('new', 'fresh', 0.5e9, 12_000), startedAtMs: 11_000 };
    const adopted = { ...reading('old', 'adopted', 9e9, 12_000), startedAtMs: 5_000 };
    const built = buildReport({ node: 'n1', nowMs: 12_000, containers: [fresh, adopted], host: host(1e9, 12_000) }, memory);
    expect(built.report?.pods.map((p) => [p.name, p.containers[0]?.cpuNanoCores])).toEqual([['fresh', 500_000_000]]);
  });

  it('on a hollow node, the node uses what its pods use', () => {
    const memory = buildReport({ node: 'h1', nowMs: 0, containers: [reading('a', 'p1', 0, 0, 10), reading('b', 'p2', 0, 0, 20)], host: 'sum-of-pods' }, emptyCollectorMemory).memory;
    const built = buildReport({ node: 'h1', nowMs: 1_000, containers: [reading('a', 'p1', 2e8, 1_000, 10), reading('b', 'p2', 3e8, 1_000, 20)], host: 'sum-of-pods' }, memory);
    expect(built.report?.usage).toEqual({ cpuNanoCores: 500_000_000, memoryWorkingSetBytes: 30 });
  });

  it('sends nothing while the host cannot be read', () => {
    const memory = buildReport({ node: 'n1', nowMs: 0, containers: [], host: null }, emptyCollectorMemory).memory;
    expect(buildReport({ node: 'n1', nowMs: 1_000, containers: [], host: null }, memory).report).toBeNull();
  });
});

describe('hollow runtime stats', () => {
  it('grow cumulative CPU at the annotated rate and report the annotated memory', async () => {
    let wallMs = Date.parse('2026-12-03T10:00:00Z');
    const clock = new SimulatedClock();
    const runtime = new HollowRuntime({
      dir: '/nonexistent', podCidr: () => null, nodeIp: '127.0.0.1', clock, logger: createJsonLogger({ level: 'error', write: () => undefined }), wallClock: () => new Date(wallMs),
    });
    const sandboxConfig: PodSandboxConfig = {
      uid: 'u1', name: 'busy', namespace: 'default', attempt: 0, hostname: 'busy', labels: {}, hostNetwork: false, logDirectory: '/nonexistent', portMappings: [],
      annotations: { [hollowAnnotations.cpu]: '250m', [hollowAnnotations.memory]: '64Mi' },
    };
    const sandbox = await runtime.runPodSandbox(sandboxConfig);
    const labels = { [runtimeLabels.podUid]: 'u1', [runtimeLabels.podName]: 'busy', [runtimeLabels.podNamespace]: 'default', [runtimeLabels.containerName]: 'app' };
    const id = await runtime.createContainer(sandbox, { name: 'app', image: 'x', command: [], args: [], env: [], mounts: [], resources: {}, logPath: '/nonexistent/log', attempt: 0, labels }, sandboxConfig);
    await runtime.startContainer(id);
    const collect = async (): Promise<Collection> => {
      const stats = await runtime.containerStats(id);
      return { node: 'h1', nowMs: wallMs, host: 'sum-of-pods', containers: [{ containerId: id, podUid: 'u1', podName: 'busy', podNamespace: 'default', containerName: 'app', startedAtMs: null, stats }] };
    };
    wallMs += 3_000;
    const memory = buildReport(await collect(), emptyCollectorMemory).memory;
    wallMs += 15_000;
    const report = buildReport(await collect(), memory).report;
    expect(report?.pods[0]?.containers[0]).toEqual({ name: 'app', cpuNanoCores: 250_000_000, memoryWorkingSetBytes: 64 * 2 ** 20 });
    expect(report?.usage).toEqual({ cpuNanoCores: 250_000_000, memoryWorkingSetBytes: 64 * 2 ** 20 });
  });
});
