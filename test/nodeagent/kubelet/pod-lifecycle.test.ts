/**
 * The pod worker's lifecycle on simulated time, through the pod manager and the fake runtime:
 * init containers in order, each restart policy, CrashLoopBackOff's delays and reset, liveness
 * and startup failures, readiness driving Ready, exit reasons, graceful deletion's order, a pod
 * no longer assigned stopping at once, and orphaned sandboxes removed after the first list.
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { makePod, startKubelet, type Kubelet } from './harness.js';

function starts(k: Kubelet, name: string): string[] {
  return k.calls.filter((c) => c.startsWith(`startContainer ${name}#`));
}

function phase(k: Kubelet, pod: Pod): string | undefined {
  return k.status.latest.get(pod.metadata!.uid!)?.phase;
}

function condition(k: Kubelet, pod: Pod, type: string): string | undefined {
  return k.status.latest.get(pod.metadata!.uid!)?.conditions?.find((c) => c.type === type)?.status;
}

describe('pod worker lifecycle', () => {
  it('runs init containers one at a time in order, each to success, then the containers', async () => {
    const k = startKubelet();
    k.runtime.onStart = (config) => (config.name.startsWith('init') ? { exitCode: 0 } : null);
    const pod = makePod({ initContainers: [{ name: 'init-a', image: 'i', command: ['a'] }, { name: 'init-b', image: 'i', command: ['b'] }] });
    k.manager.apply({ type: 'sync', pods: [pod] });
    await k.advance(500);
    expect(k.calls.filter((c) => c.startsWith('startContainer'))).toEqual(['startContainer init-a#0', 'startContainer init-b#0', 'startContainer app#0']);
    expect(phase(k, pod)).toBe('Running');
    expect(condition(k, pod, 'Initialized')).toBe('True');
    expect(k.containerStatus(pod, 'init-a')?.state?.terminated?.reason).toBe('Completed');
  });

  it('holds the containers while an init container fails: retried under OnFailure, the pod Failed under Never', async () => {
    for (const restartPolicy of ['OnFailure', 'Never'] as const) {
      const k = startKubelet();
      k.runtime.onStart = (config) => (config.name === 'init' ? { exitCode: 2 } : null);
      const pod = makePod({ restartPolicy, initContainers: [{ name: 'init', image: 'i', command: ['x'] }] });
      k.manager.apply({ type: 'sync', pods: [pod] });
      await k.advance(15_000);
      expect(starts(k, 'app')).toEqual([]);
      if (restartPolicy === 'Never') {
        expect(starts(k, 'init')).toHaveLength(1);
        expect(phase(k, pod)).toBe('Failed');
      } else {
        expect(starts(k, 'init').length).toBeGreaterThanOrEqual(2);
        expect(phase(k, pod)).toBe('Pending');
        expect(condition(k, pod, 'Initialized')).toBe('False');
      }
    }
  });

  it('applies each restart policy to exit 0 and exit 1', async () => {
    const cases = [
      { policy: 'Always', code: 0, restarts: true, phase: 'Running' },
      { policy: 'Always', code: 1, restarts: true, phase: 'Running' },
      { policy: 'OnFailure', code: 0, restarts: false, phase: 'Succeeded' },
      { policy: 'OnFailure', code: 1, restarts: true, phase: 'Running' },
      { policy: 'Never', code: 0, restarts: false, phase: 'Succeeded' },
      { policy: 'Never', code: 1, restarts: false, phase: 'Failed' },
    ] as const;
    for (const c of cases) {
      const k = startKubelet();
      const pod = makePod({ restartPolicy: c.policy });
      k.manager.apply({ type: 'sync', pods: [pod] });
      await k.advance(200);
      k.runtime.exitByName(pod.metadata!.uid!, 'app', { exitCode: c.code });
      await k.advance(500);
      expect({ ...c, started: starts(k, 'app').length }).toEqual({ ...c, started: c.restarts ? 2 : 1 });
      expect(phase(k, pod)).toBe(c.phase);
      const status = k.containerStatus(pod, 'app');
      if (c.restarts) {
        expect(status?.restartCount).toBe(1);
        expect(status?.lastState?.terminated?.exitCode).toBe(c.code);
        expect(status?.lastState?.terminated?.reason).toBe(c.code === 0 ? 'Completed' : 'Error');
      } else {
        expect(status?.state?.terminated?.reason).toBe(c.code === 0 ? 'Completed' : 'Error');
      }
    }
  });

  it('CrashLoopBackOff: the first restart at once, then 10, 20, 40 … s capped at 300 s; reset after 10 min of running', async () => {
    const k = startKubelet();
    const startTimes: number[] = [];
    let crash = true;
    k.runtime.onStart = () => {
      startTimes.push(k.clock.now());
      return crash ? { exitCode: 1 } : null;
    };
    const pod = makePod({});
    k.manager.apply({ type: 'sync', pods: [pod] });
    const stepMs = 500;
    await k.advance(1_300_000, stepMs);
    const delays = startTimes.slice(1).map((t, i) => t - startTimes[i]!);
    const expected = [0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000];
    expect(delays.length).toBeGreaterThanOrEqual(expected.length);
    expected.forEach((delay, i) => {
      expect(delays[i]).toBeGreaterThanOrEqual(delay);
      expect(delays[i]).toBeLessThanOrEqual(delay + stepMs);
    });
    const waiting = k.containerStatus(pod, 'app');
    expect(waiting?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(waiting?.lastState?.terminated?.exitCode).toBe(1);
    expect(waiting?.restartCount).toBe(startTimes.length - 1);

    // Let it run for 10 minutes: the next crash restarts at once, the one after waits 10 s again.
    crash = false;
    await k.advance(300_500, stepMs);
    expect(k.runtime.running(pod.metadata!.uid!, 'app')).toBeDefined();
    await k.advance(600_000, 5_000);
    const before = startTimes.length;
    crash = true;
    k.runtime.exitByName(pod.metadata!.uid!, 'app', { exitCode: 1 });
    await k.advance(stepMs, stepMs);
    expect(startTimes.length).toBe(before + 1);
    await k.advance(9_000, stepMs);
    expect(startTimes.length).toBe(before + 1);
    await k.advance(1_500, stepMs);
    expect(startTimes.length).toBe(before + 2);
  });

  it('restarts a container whose liveness probe fails, restartCount + 1', async () => {
    const k = startKubelet();
    const pod = makePod({ containers: [{ name: 'app', image: 'img', command: ['run'], livenessProbe: { exec: { command: ['true'] } } }] });
    k.manager.apply({ type: 'sync', pods: [pod] });
    await k.advance(200);
    expect(k.containerStatus(pod, 'app')?.restartCount).toBe(0);
    k.prober.fire('app', { kind: 'liveness', healthy: false, message: 'exit 1' });
    await k.advance(500);
    expect(k.calls).toContain('stopContainer app 30');
    expect(starts(k, 'app')).toEqual(['startContainer app#0', 'startContainer app#1']);
    const status = k.containerStatus(pod, 'app');
    expect(status?.restartCount).toBe(1);
    expect(status?.state?.running).toBeDefined();
    expect(status?.lastState?.terminated?.exitCode).toBe(143);
  });

  it('drives Ready from readiness transitions; started waits for the startup probe', async () => {
    const k = startKubelet();
    const pod = makePod({ containers: [{ name: 'app', image: 'img', command: ['run'], readinessProbe: { tcpSocket: { port: 80 } }, startupProbe: { tcpSocket: { port: 80 } } }] });
    k.manager.apply({ type: 'sync', pods: [pod] });
    await k.advance(200);
    expect(condition(k, pod, 'Ready')).toBe('False');
    expect(k.containerStatus(pod, 'app')?.started).toBe(false);
    k.prober.fire('app', { kind: 'startup', healthy: true, message: '' });
    await k.advance(200);
    expect(k.containerStatus(pod, 'app')?.started).toBe(true);
    expect(condition(k, pod, 'Ready')).toBe('False');
    k.prober.fire('app', { kind: 'readiness', healthy: true, message: '' });
    await k.advance(200);
    expect(condition(k, pod, 'Ready')).toBe('True');
    expect(condition(k, pod, 'ContainersReady')).toBe('True');
    k.prober.fire('app', { kind: 'readiness', healthy: false, message: 'refused' });
    await k.advance(200);
    expect(condition(k, pod, 'Ready')).toBe('False');
    expect(starts(k, 'app')).toHaveLength(1);
  });

  it('a relist that changes nothing reports no status (the sink is not even asked)', async () => {
    const k = startKubelet();
    const pod = makePod({});
    k.manager.apply({ type: 'sync', pods: [pod] });
    await k.advance(500);
    const reports = k.status.history.length;
    await k.advance(10_000, 500);
    expect(k.status.history.length).toBe(reports);
    k.runtime.exitByName(pod.metadata!.uid!, 'app', { exitCode: 1 });
    await k.advance(500);
    expect(k.status.history.length).toBeGreaterThan(reports);
  });

  it('refreshes the pod\'s volumes once a minute while it runs', async () => {
    const k = startKubelet();
    const pod = makePod({}, 'vol');
    k.manager.apply({ type: 'sync', pods: [pod] });
    await k.advance(59_000, 1_000);
    expect(k.calls.filter((c) => c === 'volumes.refresh vol')).toHaveLength(0);
    await k.advance(62_000, 1_000);
    expect(k.calls.filter((c) => c === 'volumes.refresh vol')).toHaveLength(2);
  });

  it('a failing volume setup is retried, and the pod says why meanwhile', async () => {
    const k = startKubelet();
    k.volumes.failSetUp = new Error('configmap "settings" not found');
    const pod = makePod({}, 'vols');
    k.manager.apply({ type: 'sync', pods: [pod] });
    await k.advance(500);
    expect(phase(k, pod)).toBe('Pending');
    expect(k.containerStatus(pod, 'app')?.state?.waiting).toEqual({ reason: 'ContainerCreating', message: 'configmap "settings" not found' });
    k.volumes.failSetUp = null;
    await k.advance(2_500);
    expect(phase(k, pod)).toBe('Running');
    expect(k.calls.filter((c) => c === 'volumes.setUp vols').length).toBeGreaterThanOrEqual(2);
  });

  it('reports OOMKilled as the runtime says', async () => {
    const k = startKubelet();
    const pod = makePod({ restartPolicy: 'Never' });
    k.manager.apply({ type: 'sync', pods: [pod] });
    await k.advance(200);
    k.runtime.exitByName(pod.metadata!.uid!, 'app', { exitCode: 137, reason: 'OOMKilled' });
    await k.advance(500);
    expect(k.containerStatus(pod, 'app')?.state?.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(phase(k, pod)).toBe('Failed');
  });

  it('deletes gracefully: preStop, then SIGTERM with the rest of the grace (SIGKILL after it), then the sandbox, then confirmDeletion', async () => {
    const k = startKubelet();
    const pod = makePod({
      terminationGracePeriodSeconds: 30,
      containers: [{ name: 'app', image: 'img', command: ['run'], lifecycle: { preStop: { exec: { command: ['drain'] } } } }],
    });
    k.manager.apply({ type: 'sync', pods: [pod] });
    await k.advance(200);
    const mark = k.calls.length;
    const deleting: Pod = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 20 } };
    k.manager.apply({ type: 'upsert', pod: deleting });
    await k.advance(500);
    const sandbox = [...k.calls].find((c) => c.startsWith('runPodSandbox')) ? 'sb1' : '';
    expect(k.calls.slice(mark)).toEqual([
      'hook drain app 20000',
      'stopContainer app 20',
      `stopPodSandbox ${sandbox}`,
      `removePodSandbox ${sandbox}`,
      `volumes.tearDown ${pod.metadata!.name}`,
      `confirmDeletion ${pod.metadata!.name}`,
    ]);
    expect(k.manager.pods().size).toBe(0);
  });

  it('a force deletion during a graceful one kills at once, and the graceful stop then completes', async () => {
    const k = startKubelet();
    let release = (): void => undefined;
    k.prober.hookGate = new Promise<void>((resolve) => (release = resolve));
    const pod = makePod({ containers: [{ name: 'app', image: 'img', command: ['run'], lifecycle: { preStop: { exec: { command: ['drain'] } } } }] });
    k.manager.apply({ type: 'sync', pods: [pod] });
    await k.advance(200);
    k.manager.apply({ type: 'upsert', pod: { ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:00Z', deletionGracePeriodSeconds: 30 } } });
    await k.advance(200);
    expect(k.calls.filter((c) => c.startsWith('stopContainer'))).toEqual([]);
    k.manager.apply({ type: 'delete', namespace: 'default', name: pod.metadata!.name!, uid: pod.metadata!.uid! });
    await k.advance(200);
    expect(k.calls.filter((c) => c.startsWith('stopContainer'))).toEqual(['stopContainer app 0']);
    release();
    await k.advance(200);
    expect(k.manager.pods().size).toBe(0);
    expect(k.runtime.sandboxes.size).toBe(0);
  });

  it('stops a pod no longer assigned at once (no hook, no grace, no confirmDeletion) and removes orphaned sandboxes', async () => {
    const k = startKubelet();
    const orphanPod = makePod({});
    await k.runtime.runPodSandbox({ uid: 'uid-orphan', name: 'orphan', namespace: 'default', attempt: 0, hostname: 'orphan', labels: { 'io.kubernetes.pod.uid': 'uid-orphan' }, annotations: {}, hostNetwork: false, logDirectory: '/tmp', portMappings: [] });
    const pod = makePod({ containers: [{ name: 'app', image: 'img', command: ['run'], lifecycle: { preStop: { exec: { command: ['drain'] } } } }] });
    k.manager.apply({ type: 'sync', pods: [pod] });
    await k.advance(200);
    expect([...k.runtime.sandboxes.values()].map((s) => s.podUid)).toEqual([pod.metadata!.uid]);
    k.manager.apply({ type: 'sync', pods: [] });
    await k.advance(200);
    expect(k.calls).toContain('stopContainer app 0');
    expect(k.calls.some((c) => c.startsWith('hook'))).toBe(false);
    expect(k.calls.some((c) => c.startsWith('confirmDeletion'))).toBe(false);
    expect(k.runtime.sandboxes.size).toBe(0);
    expect(k.manager.pods().size).toBe(0);
    void orphanPod;
  });
});
