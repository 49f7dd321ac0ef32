/**
 * The kubelet's pure decisions, from their inputs alone: restart policy and CrashLoopBackOff
 * delays, the pod phase and status (reasons Completed / Error / OOMKilled / CrashLoopBackOff /
 * ContainerCreating / PodInitializing, conditions, addresses, QoS), and the container config
 * (`$(VAR)` expansion as Kubernetes does it, resources in runtime units, labels, log path).
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  computePodStatus, containerConfig, containerResources, expandVariables, kubeletLimits, nextRestartDelayMs, shouldRestart, shouldRestartInit,
} from '../../../nodeagent/kubelet/index.js';
import { newContainerRecord, type ContainerInstance, type ContainerRecord } from '../../../nodeagent/kubelet/container-record.js';
import { makePod, wallStartMs } from './harness.js';

describe('restart decisions', () => {
  it('restart policy: Always restarts everything, OnFailure only failures, Never nothing; init containers only failures, never under Never', () => {
    expect([0, 1].map((code) => ['Always', 'OnFailure', 'Never'].map((p) => shouldRestart(p as 'Always', code)))).toEqual([[true, false, false], [true, true, false]]);
    expect([0, 1].map((code) => ['Always', 'OnFailure', 'Never'].map((p) => shouldRestartInit(p as 'Always', code)))).toEqual([[false, false, false], [true, true, false]]);
  });

  it('CrashLoopBackOff: 0, then 10 s doubling, capped at 300 s; 10 min of running resets', () => {
    const delays: number[] = [];
    let previous: number | null = null;
    for (let i = 0; i < 9; i++) {
      previous = nextRestartDelayMs(previous, 1_000);
      delays.push(previous);
    }
    expect(delays).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    expect(nextRestartDelayMs(300_000, kubeletLimits.restartBackoffResetMs - 1)).toBe(300_000);
    expect(nextRestartDelayMs(300_000, kubeletLimits.restartBackoffResetMs)).toBe(0);
  });
});

function instance(fields: Partial<ContainerInstance>): ContainerInstance {
  return { id: 'c1', attempt: 0, image: 'img', state: 'running', startedAtMs: wallStartMs, finishedAtMs: null, exitCode: null, reason: null, message: null, ...fields };
}

function record(name: string, fields: Partial<ContainerRecord> = {}, init = false): ContainerRecord {
  return Object.assign(newContainerRecord(name, init), fields);
}

function status(pod: Pod, containers: ContainerRecord[]) {
  return computePodStatus({ pod, containers, podIp: '10.0.0.5', hostIp: '192.0.2.1', startTimeMs: wallStartMs, runtimeName: 'process', nowMs: wallStartMs + 5_000 });
}

describe('pod status', () => {
  const pod = makePod({ containers: [{ name: 'app', image: 'img', resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }] });

  it('a running, ready container: Running, Ready, addresses, start time, QoS, containerID with the runtime scheme', () => {
    const s = status(pod, [record('app', { current: instance({}), started: true, ready: true })]);
    expect(s).toMatchObject({
      phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }], hostIP: '192.0.2.1', hostIPs: [{ ip: '192.0.2.1' }],
      startTime: '2026-01-01T00:00:00Z', qosClass: 'Guaranteed',
    });
    expect(s.containerStatuses?.[0]).toMatchObject({ name: 'app', ready: true, started: true, restartCount: 0, containerID: 'process://c1', image: 'img', state: { running: { startedAt: '2026-01-01T00:00:00Z' } } });
    expect(Object.fromEntries(s.conditions!.map((c) => [c.type, c.status]))).toEqual({ PodScheduled: 'True', Initialized: 'True', ContainersReady: 'True', Ready: 'True' });
  });

  it('not ready: Ready False naming the container; not yet created: ContainerCreating and Pending', () => {
    const unready = status(pod, [record('app', { current: instance({}), started: true, ready: false })]);
    expect(unready.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' });
    const creating = status(pod, [record('app')]);
    expect(creating.phase).toBe('Pending');
    expect(creating.containerStatuses?.[0]?.state).toEqual({ waiting: { reason: 'ContainerCreating' } });
  });

  it('exit reasons: Completed for 0, Error otherwise, the runtime\'s OOMKilled kept; CrashLoopBackOff waits with the exit in lastState', () => {
    const never = makePod({ restartPolicy: 'Never' });
    const done = status(never, [record('app', { current: instance({ state: 'exited', exitCode: 0, finishedAtMs: wallStartMs + 1_000 }) })]);
    expect(done.phase).toBe('Succeeded');
    expect(done.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed', finishedAt: '2026-01-01T00:00:01Z', containerID: 'process://c1' });
    expect(done.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('PodCompleted');
    const failed = status(never, [record('app', { current: instance({ state: 'exited', exitCode: 3 }) })]);
    expect(failed.phase).toBe('Failed');
    expect(failed.containerStatuses?.[0]?.state?.terminated?.reason).toBe('Error');
    const oom = status(never, [record('app', { current: instance({ state: 'exited', exitCode: 137, reason: 'OOMKilled' }) })]);
    expect(oom.containerStatuses?.[0]?.state?.terminated?.reason).toBe('OOMKilled');
    const looping = status(pod, [record('app', { restartCount: 4, current: instance({ attempt: 4, state: 'exited', exitCode: 1 }), waiting: { reason: 'CrashLoopBackOff', message: 'back-off 160s' } })]);
    expect(looping.phase).toBe('Running');
    expect(looping.containerStatuses?.[0]).toMatchObject({ restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, reason: 'Error' } } });
  });

  it('initializing: Pending, Initialized False, containers PodInitializing; a failed init container under Never: Failed', () => {
    const withInit = makePod({ initContainers: [{ name: 'init', image: 'i' }] });
    const s = status(withInit, [record('init', { current: instance({}) }, true), record('app')]);
    expect(s.phase).toBe('Pending');
    expect(s.conditions?.find((c) => c.type === 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized' });
    expect(s.containerStatuses?.[0]?.state?.waiting?.reason).toBe('PodInitializing');
    expect(s.initContainerStatuses?.[0]?.state?.running).toBeDefined();
    const never = makePod({ restartPolicy: 'Never', initContainers: [{ name: 'init', image: 'i' }] });
    expect(status(never, [record('init', { current: instance({ state: 'exited', exitCode: 1 }) }, true), record('app')]).phase).toBe('Failed');
  });

  it('keeps a condition\'s lastTransitionTime while its status holds', () => {
    const first = status(pod, [record('app', { current: instance({}), started: true, ready: true })]);
    const again = computePodStatus({
      pod: { ...pod, status: first }, containers: [record('app', { current: instance({}), started: true, ready: true })], podIp: '10.0.0.5',
      hostIp: '192.0.2.1', startTimeMs: wallStartMs + 60_000, runtimeName: 'process', nowMs: wallStartMs + 60_000,
    });
    expect(again).toEqual(first);
  });
});

describe('container config', () => {
  it('expands $(VAR) as Kubernetes: defined names replaced, unknown kept, $$ escapes', () => {
    const env = new Map([['POD_IP', '10.0.0.5'], ['PORT', '8080']]);
    expect(expandVariables('--listen=$(POD_IP):$(PORT)', env)).toBe('--listen=10.0.0.5:8080');
    expect(expandVariables('$(MISSING) $$(POD_IP) $$ $(unclosed', env)).toBe('$(MISSING) $(POD_IP) $ $(unclosed');
  });

  it('resources in millicores and bytes; command, args, labels and the log path of the attempt', () => {
    expect(containerResources({ resources: { requests: { cpu: '250m' }, limits: { cpu: '1.5', memory: '128Mi' } } })).toEqual({ cpuLimitMillis: 1500, cpuRequestMillis: 250, memoryLimitBytes: 134_217_728 });
    const pod = makePod({ containers: [{ name: 'app', image: 'img', command: ['node', '-e', 'listen($(POD_IP))'], args: ['$(PORT)'] }] }, 'web');
    const config = containerConfig({ agentDir: '/var/kubus', pod, container: pod.spec!.containers[0]!, attempt: 3, env: [{ name: 'POD_IP', value: '10.0.0.5' }, { name: 'PORT', value: '80' }], volumes: { mountsFor: () => [] } });
    expect(config).toMatchObject({
      command: ['node', '-e', 'listen(10.0.0.5)'], args: ['80'], attempt: 3, logPath: '/var/kubus/pods/default_web_uid-web/app/3.log',
      labels: { 'io.kubernetes.pod.uid': 'uid-web', 'io.kubernetes.container.name': 'app', 'io.kubernetes.container.attempt': '3' },
    });
  });
});
