/**
 * The checkpoint and what it is for: the file round-trips and survives corruption (moved aside,
 * never a crash); an agent restarted with the API unreachable runs its pods again from it, with
 * the same pod IPs (host reboot: containers gone → started again, restart count + 1) or adopts
 * them (agent restart: still running → nothing restarted); the next list from the API reconciles.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../bus/clock.js';
import { CheckpointStore, type Checkpoint } from '../../../nodeagent/kubelet/index.js';
import { waitUntil } from '../../support/wait.js';
import { FakeRuntime } from '../fake-runtime.js';
import { makePod, silentLogger, startKubelet, wallStartMs } from './harness.js';

function store(dir: string, clock = new SimulatedClock()): CheckpointStore {
  return new CheckpointStore({ dir, nodeName: 'n1', clock, logger: silentLogger(), wallClock: () => new Date(wallStartMs) });
}

describe('checkpoint', () => {
  it('round-trips through the file (temp + fsync + rename)', async () => {
    const { dir } = startKubelet();
    const checkpoint: Checkpoint = {
      version: 1, nodeName: 'n1',
      pods: [{ pod: makePod({}, 'web'), podIp: '10.0.0.7', sandboxId: 'sb1', containers: { app: { id: 'c2', restartCount: 3 } } }],
    };
    await store(dir).write(checkpoint);
    expect(await store(dir).load()).toEqual(checkpoint);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('moves a corrupt file aside and starts empty', async () => {
    const { dir } = startKubelet();
    const s = store(dir);
    writeFileSync(s.path, '{"version":1,"nodeName":"n1","pods":[{"pod"');
    expect(await s.load()).toBeNull();
    expect(existsSync(s.path)).toBe(false);
    expect(readdirSync(dir).some((f) => f.startsWith('checkpoint.json.corrupt-'))).toBe(true);
  });

  it('is written (coalesced) on assignment changes', async () => {
    const k = startKubelet();
    const pods = [makePod({}, 'a'), makePod({}, 'b')];
    k.manager.apply({ type: 'sync', pods });
    await k.advance(300);
    // The write itself is real file I/O: poll the file until it holds both pods.
    const saved = await waitUntil('checkpoint holds both pods', async () => {
      const loaded = await store(k.dir).load();
      return loaded?.pods.length === 2 ? loaded : undefined;
    }, { timeoutMs: 5_000 });
    expect(saved?.pods.map((p) => p.pod.metadata?.name).sort()).toEqual(['a', 'b']);
    expect(saved?.pods.every((p) => p.podIp !== null && p.sandboxId !== null && p.containers['app']?.id !== null)).toBe(true);
  });
});

async function runThenStop(podName: string, runtime?: FakeRuntime) {
  const k = startKubelet(runtime === undefined ? {} : { runtime });
  const pod = makePod({}, podName);
  k.manager.apply({ type: 'sync', pods: [pod] });
  await k.advance(200);
  k.runtime.exitByName(pod.metadata!.uid!, 'app', { exitCode: 1 });
  await k.advance(200);
  await k.manager.stop({ drain: false });
  const ip = [...k.runtime.sandboxes.values()][0]!.ip;
  return { k, pod, ip };
}

describe('restore with the API unreachable', () => {
  it('after a host reboot (runtime empty) starts the pods again with their IPs and restart count + 1', async () => {
    const { k: before, pod, ip } = await runThenStop('web');
    expect(before.containerStatus(pod, 'app')?.restartCount).toBe(1);
    const after = startKubelet({ dir: before.dir });
    await after.manager.restore();
    await after.advance(200);
    const sandboxes = [...after.runtime.sandboxes.values()];
    expect(sandboxes.map((s) => [s.podUid, s.ip])).toEqual([[pod.metadata!.uid, ip]]);
    expect(after.runtime.running(pod.metadata!.uid!, 'app')?.attempt).toBe(2);
    expect(after.containerStatus(pod, 'app')?.restartCount).toBe(2);
    expect(after.status.latest.get(pod.metadata!.uid!)?.podIP).toBe(ip);

    // The API answers: its list is the truth; a pod no longer there stops.
    after.manager.apply({ type: 'sync', pods: [] });
    await after.advance(200);
    expect(after.runtime.sandboxes.size).toBe(0);
  });

  it('after an agent restart (containers still running) adopts them: nothing restarted, then the list reconciles without duplicates', async () => {
    const { k: before, pod } = await runThenStop('web');
    const running = before.runtime.running(pod.metadata!.uid!, 'app');
    const after = startKubelet({ dir: before.dir, runtime: before.runtime, clock: before.clock });
    const mark = before.runtime.calls.length;
    await after.manager.restore();
    await after.advance(200);
    after.manager.apply({ type: 'sync', pods: [pod] });
    await after.advance(500);
    const newCalls = after.runtime.calls.slice(mark);
    expect(newCalls.filter((c) => /runPodSandbox|createContainer|startContainer|stopContainer/.test(c))).toEqual([]);
    expect(after.runtime.sandboxes.size).toBe(1);
    expect(after.runtime.running(pod.metadata!.uid!, 'app')?.id).toBe(running?.id);
    expect(after.containerStatus(pod, 'app')).toMatchObject({ restartCount: 1, state: { running: {} } });
    expect(after.containerStatus(pod, 'app')?.lastState?.terminated?.exitCode).toBe(1);
  });

  it('after a drain (--drain-on-stop) the pods stay checkpointed and run again on restore', async () => {
    const k = startKubelet();
    const pod = makePod({ terminationGracePeriodSeconds: 7 }, 'drained');
    k.manager.apply({ type: 'sync', pods: [pod] });
    await k.advance(200);
    const stopping = k.manager.stop({ drain: true });
    await k.advance(200);
    await stopping;
    expect(k.calls).toContain('stopContainer app 7');
    expect(k.runtime.running(pod.metadata!.uid!, 'app')).toBeUndefined();
    expect((await store(k.dir).load())?.pods.map((p) => p.pod.metadata?.name)).toEqual(['drained']);
    const after = startKubelet({ dir: k.dir, runtime: k.runtime, clock: k.clock });
    await after.manager.restore();
    await after.advance(300);
    expect(after.runtime.running(pod.metadata!.uid!, 'app')).toBeDefined();
    expect(after.containerStatus(pod, 'app')?.restartCount).toBe(1);
  });

  it('adopts without a checkpoint too (by the runtime labels), when the API list comes first', async () => {
    const { k: before, pod } = await runThenStop('api');
    const after = startKubelet({ runtime: before.runtime, clock: before.clock });
    const mark = before.runtime.calls.length;
    after.manager.apply({ type: 'sync', pods: [pod] });
    await after.manager.restore();
    await after.advance(300);
    expect(after.runtime.calls.slice(mark).filter((c) => /runPodSandbox|createContainer|stopContainer/.test(c))).toEqual([]);
    expect(after.containerStatus(pod, 'app')?.restartCount).toBe(1);
  });
});
