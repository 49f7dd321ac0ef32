/**
 * The pod manager over the real `process` runtime and the real prober (no control plane: a
 * scripted status sink): a pod whose container serves HTTP on its pod IP becomes Ready through
 * its readiness probe; a crashing container restarts with restartCount + 1; a restarted agent
 * (new manager and runtime on the same --dir) adopts the running container instead of
 * restarting it; a graceful deletion SIGTERMs the process and confirms the deletion.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../../bus/clock.js';
import type { Bus } from '../../../bus/transport.js';
import type { AgentContext } from '../../../nodeagent/agent-context.js';
import { createPodManager, type PodManager } from '../../../nodeagent/kubelet/index.js';
import { createProber } from '../../../nodeagent/probes/index.js';
import { killProcessContainers, ProcessRuntime } from '../../../nodeagent/runtime/index.js';
import { waitUntil } from '../../support/wait.js';
import { FakeStatusSink, FakeVolumes, fakeEnv } from '../fake-runtime.js';
import { node, silentLogger, unreachableApi } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'kubus-process-pods-'));
const podCidr = '127.77.3.0/24';
afterAll(() => {
  killProcessContainers(dir);
});

function agent() {
  const clock = new SystemClock();
  const logger = silentLogger();
  const runtime = new ProcessRuntime({ dir, podCidr: () => podCidr, nodeIp: '127.0.0.1', clock, logger });
  const calls: string[] = [];
  const status = new FakeStatusSink(calls);
  const ctx: AgentContext = { nodeName: 'n1', cluster: 'test', dir, api: unreachableApi, bus: {} as Bus, clock, wallClock: () => new Date(), logger };
  const manager = createPodManager(ctx, {
    runtime, node, volumes: new FakeVolumes(calls), env: fakeEnv, prober: createProber({ runtime, clock, logger }), status, nodeIp: '127.0.0.1',
  });
  return { runtime, status, calls, manager };
}

const server = 'require("http").createServer((q, s) => s.end("ok")).listen(8080, process.env.POD_IP); process.on("SIGTERM", () => { console.log("got SIGTERM"); process.exit(0); })';
const web: Pod = {
  metadata: { name: 'web', namespace: 'default', uid: 'uid-web' },
  spec: {
    nodeName: 'n1', terminationGracePeriodSeconds: 5,
    containers: [{ name: 'app', image: 'node', command: [process.execPath, '-e', server], readinessProbe: { httpGet: { port: 8080, path: '/' }, periodSeconds: 1 } }],
  },
};
const crasher: Pod = {
  metadata: { name: 'crasher', namespace: 'default', uid: 'uid-crasher' },
  spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'node', command: [process.execPath, '-e', 'setTimeout(() => process.exit(3), 200)'] }] },
};

function ready(status: FakeStatusSink, uid: string): boolean {
  return status.latest.get(uid)?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

describe('pod manager over the process runtime', () => {
  let first: ReturnType<typeof agent>;
  let manager: PodManager;

  it('runs a pod to Ready on its own IP; a crashing container restarts with restartCount + 1', async () => {
    first = agent();
    manager = first.manager;
    manager.apply({ type: 'sync', pods: [web, crasher] });
    await waitUntil('web Ready', () => ready(first.status, 'uid-web'), { timeoutMs: 10_000 });
    const podIp = first.status.latest.get('uid-web')?.podIP;
    expect(podIp).toMatch(/^127\.77\.3\./);
    expect(await (await fetch(`http://${podIp}:8080/`)).text()).toBe('ok');
    const restarted = await waitUntil('crasher restarted', () => {
      const s = first.status.latest.get('uid-crasher')?.containerStatuses?.[0];
      return (s?.restartCount ?? 0) >= 1 ? s : undefined;
    }, { timeoutMs: 10_000 });
    expect(restarted.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
  });

  it('a restarted agent adopts the running container: same id, no restart', async () => {
    const before = first.status.latest.get('uid-web')?.containerStatuses?.[0];
    await manager.stop({ drain: false });
    await first.runtime.close();
    const second = agent();
    manager = second.manager;
    await manager.restore();
    await waitUntil('web Ready again', () => ready(second.status, 'uid-web'), { timeoutMs: 10_000 });
    const after = second.status.latest.get('uid-web')?.containerStatuses?.[0];
    expect(after?.containerID).toBe(before?.containerID);
    expect(after?.restartCount).toBe(0);
    first = second;
  });

  it('deletes gracefully: SIGTERM reaches the process, then the deletion is confirmed', async () => {
    manager.apply({ type: 'upsert', pod: { ...web, metadata: { ...web.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 5 } } });
    manager.apply({ type: 'delete', namespace: 'default', name: 'crasher', uid: 'uid-crasher' });
    await waitUntil('deletion confirmed', () => first.calls.includes('confirmDeletion web'), { timeoutMs: 10_000 });
    await waitUntil('workers gone', () => manager.pods().size === 0, { timeoutMs: 10_000 });
    expect((await first.runtime.listPodSandboxes()).length).toBe(0);
    await manager.stop({ drain: false });
    await first.runtime.close();
  });
});
