/**
 * The hollow runtime on a simulated clock: sandboxes take addresses from the pod CIDR (or none
 * without one; the node's for hostNetwork), containers are Running at once with a `started`
 * event, the scripted exit annotation ends them with the scripted code, stats follow the
 * annotations, stop and sandbox removal behave as the contract says, and unsupported streams are
 * typed errors.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { createRuntime, hollowAnnotations, RuntimeUnsupportedError, ContainerStateError, type ContainerConfig, type ContainerEvent, type PodSandboxConfig } from '../../../nodeagent/runtime/index.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

function sandboxConfig(uid: string, annotations: Record<string, string> = {}, hostNetwork = false): PodSandboxConfig {
  return {
    uid, name: `pod-${uid}`, namespace: 'default', attempt: 0, hostname: `pod-${uid}`, labels: { 'io.kubernetes.pod.uid': uid },
    annotations, hostNetwork, logDirectory: `/tmp/pods/${uid}`, portMappings: [],
  };
}

function containerConfig(name: string): ContainerConfig {
  return { name, image: 'busybox', command: ['sleep'], args: ['1000'], env: [], mounts: [], resources: {}, logPath: `/tmp/${name}/0.log`, attempt: 0, labels: {} };
}

function setup(cidr: string | null = '127.64.7.0/24') {
  const clock = new SimulatedClock();
  let wallMs = 1_700_000_000_000;
  const runtime = createRuntime('hollow', { dir: '/nonexistent', podCidr: () => cidr, nodeIp: '10.9.9.9', clock, logger: silent, wallClock: () => new Date(wallMs) });
  const events: ContainerEvent[] = [];
  runtime.onEvent((event) => events.push(event));
  const advance = (ms: number) => {
    wallMs += ms;
    clock.advance(ms);
  };
  return { runtime, events, advance };
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('hollow runtime', () => {
  it('gives sandboxes addresses from the CIDR, the node address for hostNetwork, none without a CIDR', async () => {
    const { runtime } = setup();
    const a = await runtime.runPodSandbox(sandboxConfig('a'));
    const host = await runtime.runPodSandbox(sandboxConfig('h', {}, true));
    expect((await runtime.podSandboxStatus(a))?.ip).toBe('127.64.7.1');
    expect((await runtime.podSandboxStatus(host))?.ip).toBe('10.9.9.9');
    const none = setup(null);
    const b = await none.runtime.runPodSandbox(sandboxConfig('b'));
    expect((await none.runtime.podSandboxStatus(b))?.ip).toBeNull();
  });

  it('runs containers at once and reports started, then stops them', async () => {
    const { runtime, events } = setup();
    const sandbox = await runtime.runPodSandbox(sandboxConfig('a'));
    const id = await runtime.createContainer(sandbox, containerConfig('app'), sandboxConfig('a'));
    expect((await runtime.containerStatus(id))?.state).toBe('created');
    await runtime.startContainer(id);
    await expect(runtime.startContainer(id)).rejects.toBeInstanceOf(ContainerStateError);
    expect((await runtime.containerStatus(id))?.state).toBe('running');
    await flush();
    expect(events).toEqual([{ type: 'started', containerId: id, sandboxId: sandbox, podUid: 'a' }]);
    expect((await runtime.execSync(id, ['true'], 1000)).exitCode).toBe(0);
    await runtime.stopContainer(id, 30);
    const stopped = await runtime.containerStatus(id);
    expect([stopped?.state, stopped?.exitCode, stopped?.reason]).toEqual(['exited', 0, 'Completed']);
    await flush();
    expect(events.map((event) => event.type)).toEqual(['started', 'exited']);
  });

  it('exits with the scripted code after the scripted time', async () => {
    const { runtime, events, advance } = setup();
    const config = sandboxConfig('a', { [hollowAnnotations.exitAfterSeconds]: '5', [hollowAnnotations.exitCode]: '3' });
    const sandbox = await runtime.runPodSandbox(config);
    const id = await runtime.createContainer(sandbox, containerConfig('app'), config);
    await runtime.startContainer(id);
    advance(4_999);
    expect((await runtime.containerStatus(id))?.state).toBe('running');
    advance(1);
    const status = await runtime.containerStatus(id);
    expect([status?.state, status?.exitCode, status?.reason]).toEqual(['exited', 3, 'Error']);
    expect((status?.finishedAtMs ?? 0) - (status?.startedAtMs ?? 0)).toBe(5_000);
    await flush();
    expect(events.at(-1)?.type).toBe('exited');
  });

  it('reports stats from the annotations', async () => {
    const { runtime, advance } = setup();
    const config = sandboxConfig('a', { [hollowAnnotations.cpu]: '250m', [hollowAnnotations.memory]: '64Mi' });
    const sandbox = await runtime.runPodSandbox(config);
    const id = await runtime.createContainer(sandbox, containerConfig('app'), config);
    await runtime.startContainer(id);
    advance(2_000);
    const stats = await runtime.containerStats(id);
    expect(stats?.cpuUsageNanos).toBe(500_000_000);
    expect(stats?.memoryWorkingSetBytes).toBe(64 * 1024 * 1024);
  });

  it('kills containers and frees the address when the sandbox stops; removal forgets both', async () => {
    const { runtime } = setup('10.0.0.0/30');
    const config = sandboxConfig('a');
    const sandbox = await runtime.runPodSandbox(config);
    const id = await runtime.createContainer(sandbox, containerConfig('app'), config);
    await runtime.startContainer(id);
    await runtime.stopPodSandbox(sandbox);
    expect((await runtime.containerStatus(id))?.exitCode).toBe(137);
    expect((await runtime.podSandboxStatus(sandbox))?.state).toBe('notready');
    await runtime.removePodSandbox(sandbox);
    expect(await runtime.listContainers()).toEqual([]);
    expect(await runtime.listPodSandboxes()).toEqual([]);
    await runtime.runPodSandbox(sandboxConfig('b'));
    const third = await runtime.runPodSandbox(sandboxConfig('c'));
    expect((await runtime.podSandboxStatus(third))?.ip).toBe('10.0.0.1');
  });

  it('refuses interactive exec and port-forward with a typed error', async () => {
    const { runtime } = setup();
    await expect(runtime.exec('x', { command: ['sh'], stdin: true, tty: true })).rejects.toBeInstanceOf(RuntimeUnsupportedError);
    await expect(runtime.portForward('x', 80)).rejects.toBeInstanceOf(RuntimeUnsupportedError);
  });
});
