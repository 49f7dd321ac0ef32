/**
 * The cri runtime's pure parts, without containerd: our configs → CRI requests (resources in
 * Kubernetes' units, the log path relative to the sandbox's directory, labels for adoption,
 * hostNetwork), CRI answers → our statuses (timestamps, reasons, containerd's verbose info),
 * the pull policy, the exit code in a streaming Status, container events from two listings, and
 * the private containerd's files (per-node names and subnets, the settings RUNTIMES.md requires).
 */
import { describe, expect, it } from 'vitest';
import { runtimeLabels, type ContainerConfig, type PodSandboxConfig } from '../../../nodeagent/runtime/index.js';
import { cniConflist, cniNetworkName, containerdConfigToml, containerdLayout, defaultPodSubnet } from '../../../nodeagent/runtime/cri/containerd-config.js';
import { diffContainerStates } from '../../../nodeagent/runtime/cri/event-poller.js';
import { rotationSteps } from '../../../nodeagent/runtime/cri/log-rotator.js';
import { ContainerStatusCache } from '../../../nodeagent/runtime/cri/status-cache.js';
import { isValidImageReference } from '../../../nodeagent/runtime/cri/image-reference.js';
import { agentLabel, containerRequest, linuxResources, relativeLogPath, sandboxRequest } from '../../../nodeagent/runtime/cri/requests.js';
import { exitCodeOfStatus } from '../../../nodeagent/runtime/cri/stream-session.js';
import { containerStatusView, parseContainerInfo, pullDecision } from '../../../nodeagent/runtime/cri/views.js';
import type { WireContainer, WireContainerStatus } from '../../../nodeagent/runtime/cri/wire.js';

const sandbox: PodSandboxConfig = {
  uid: 'u1', name: 'web', namespace: 'default', attempt: 0, hostname: 'web', labels: { app: 'web' }, annotations: { a: 'b' },
  hostNetwork: false, logDirectory: '/d/pods/default_web_u1', portMappings: [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }],
  dns: { servers: ['10.96.0.10'], searches: ['svc'], options: ['ndots:5'] }, cgroupParent: '/kubepods/burstable',
};

const container: ContainerConfig = {
  name: 'c', image: 'kubus.local/busybox:1.35', command: ['sh'], args: ['-c', 'true'], env: [{ name: 'A', value: '1' }],
  mounts: [{ containerPath: '/data', hostPath: '/d/vol', readOnly: true }], resources: { cpuRequestMillis: 250, cpuLimitMillis: 500, memoryLimitBytes: 1 << 26 },
  logPath: '/d/pods/default_web_u1/c/2.log', attempt: 2, labels: {}, securityContext: { runAsUser: 1000, readOnlyRootFilesystem: true },
};

describe('CRI requests', () => {
  it('converts resources as Kubernetes does (shares from the request, quota over a 100 ms period)', () => {
    expect(linuxResources({ cpuRequestMillis: 250, cpuLimitMillis: 500, memoryLimitBytes: 1000 })).toEqual({ cpuShares: 256, cpuPeriod: 100_000, cpuQuota: 50_000, memoryLimitInBytes: 1000 });
    expect(linuxResources({ cpuRequestMillis: 1, cpuLimitMillis: 1 })).toEqual({ cpuShares: 2, cpuPeriod: 100_000, cpuQuota: 1000 });
    expect(linuxResources(undefined)).toEqual({});
  });

  it('builds a sandbox with DNS, ports, cgroup parent and the labels a restarted agent lists by', () => {
    const wire = sandboxRequest(sandbox, 'agent1');
    expect(wire.metadata).toEqual({ name: 'web', uid: 'u1', namespace: 'default', attempt: 0 });
    expect(wire.dnsConfig).toEqual({ servers: ['10.96.0.10'], searches: ['svc'], options: ['ndots:5'] });
    expect(wire.portMappings).toEqual([{ protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' }]);
    expect(wire.linux.cgroupParent).toBe('/kubepods/burstable');
    expect(wire.labels).toMatchObject({ app: 'web', [runtimeLabels.podUid]: 'u1', [agentLabel]: 'agent1' });
    expect(wire.linux.securityContext.namespaceOptions.network).toBe('POD');
    expect(sandboxRequest({ ...sandbox, hostNetwork: true }, 'a').linux.securityContext.namespaceOptions.network).toBe('NODE');
  });

  it('builds a container whose log lands at logPath, with security basics and adoption labels', () => {
    const wire = containerRequest(container, sandbox, 'agent1');
    expect(wire.logPath).toBe('c/2.log');
    expect(wire.metadata).toEqual({ name: 'c', attempt: 2 });
    expect(wire.envs).toEqual([{ key: 'A', value: '1' }]);
    expect(wire.mounts).toEqual([{ containerPath: '/data', hostPath: '/d/vol', readonly: true }]);
    expect(wire.linux.securityContext).toMatchObject({ runAsUser: { value: 1000 }, readonlyRootfs: true, privileged: false });
    expect(wire.labels).toMatchObject({ [runtimeLabels.containerName]: 'c', [runtimeLabels.attempt]: '2', [agentLabel]: 'agent1' });
    expect(relativeLogPath('/d/pods/x', '/elsewhere/c.log')).toBe('../../../elsewhere/c.log');
  });
});

describe('CRI answers', () => {
  const status: WireContainerStatus = {
    id: 'c1', metadata: { name: 'c', attempt: 1 }, state: 'CONTAINER_EXITED', createdAt: 1_000_000_000, startedAt: 2_000_000_000, finishedAt: 3_500_000_000,
    exitCode: 137, image: { image: 'img' }, imageRef: 'sha256:x', reason: 'OOMKilled', message: '', labels: {}, annotations: {}, logPath: '/l',
  };

  it('maps an exited status with milliseconds, exit code and reason', () => {
    expect(containerStatusView(status, 's1')).toMatchObject({ id: 'c1', sandboxId: 's1', attempt: 1, state: 'exited', createdAtMs: 1000, startedAtMs: 2000, finishedAtMs: 3500, exitCode: 137, reason: 'OOMKilled', message: null });
    expect(containerStatusView({ ...status, reason: '', exitCode: 0 }, 's1').reason).toBe('Completed');
    expect(containerStatusView({ ...status, state: 'CONTAINER_RUNNING', finishedAt: 0, reason: '' }, 's1')).toMatchObject({ exitCode: null, reason: null, finishedAtMs: null });
  });

  it('reads the sandbox and pid from containerd verbose info', () => {
    expect(parseContainerInfo({ info: JSON.stringify({ sandboxID: 's9', pid: 42 }) })).toEqual({ sandboxId: 's9', pid: 42 });
    expect(parseContainerInfo({ info: 'not json' })).toBeNull();
    expect(parseContainerInfo({})).toBeNull();
  });

  it('applies imagePullPolicy', () => {
    expect(pullDecision('Always', true)).toBe('pull');
    expect(pullDecision('IfNotPresent', true)).toBe('present');
    expect(pullDecision('IfNotPresent', false)).toBe('pull');
    expect(pullDecision('Never', true)).toBe('present');
    expect(pullDecision('Never', false)).toBe('neverPull');
  });

  it('reads the exit code of a streaming Status', () => {
    expect(exitCodeOfStatus('{"metadata":{},"status":"Success"}')).toBe(0);
    expect(exitCodeOfStatus('{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}')).toBe(3);
    expect(exitCodeOfStatus('{"status":"Failure","message":"no such container"}')).toBe(1);
  });

  it('turns two listings into started and exited events', () => {
    const listed = (id: string, state: WireContainer['state']): WireContainer => ({
      id, podSandboxId: 's', metadata: null, image: null, imageRef: '', state, createdAt: 0, labels: { [runtimeLabels.podUid]: 'u' }, annotations: {},
    });
    const before = new Map([['a', 'CONTAINER_CREATED' as const], ['b', 'CONTAINER_RUNNING' as const], ['c', 'CONTAINER_EXITED' as const]]);
    const events = diffContainerStates(before, [listed('a', 'CONTAINER_RUNNING'), listed('b', 'CONTAINER_EXITED'), listed('c', 'CONTAINER_EXITED'), listed('d', 'CONTAINER_EXITED')]);
    expect(events.map((e) => [e.type, e.containerId, e.podUid])).toEqual([['started', 'a', 'u'], ['exited', 'b', 'u'], ['exited', 'd', 'u']]);
  });
});

describe('image references', () => {
  it('accepts what registries accept and refuses the rest (InvalidImageName)', () => {
    for (const good of ['busybox', 'kubus.local/busybox:1.35', 'localhost:5000/a/b_c:v1.2-rc', `registry.k8s.io/pause@sha256:${'a'.repeat(64)}`, 'docker.io/library/nginx:latest']) {
      expect(isValidImageReference(good), good).toBe(true);
    }
    for (const bad of ['', 'Not A Valid/Reference', 'UPPER/case', 'a:', 'a@sha256:short', '-lead/x', `${'a'.repeat(256)}`]) {
      expect(isValidImageReference(bad), bad).toBe(false);
    }
  });
});

describe('status cache', () => {
  it('answers from memory while the listed state is unchanged, asks again when it moved', () => {
    const cache = new ContainerStatusCache();
    const listed = (state: WireContainer['state']): WireContainer => ({ id: 'c1', podSandboxId: 's', metadata: null, image: null, imageRef: '', state, createdAt: 0, labels: {}, annotations: {} });
    const running = containerStatusView({
      id: 'c1', metadata: { name: 'c', attempt: 0 }, state: 'CONTAINER_RUNNING', createdAt: 1, startedAt: 2, finishedAt: 0, exitCode: 0,
      image: null, imageRef: '', reason: '', message: '', labels: {}, annotations: {}, logPath: '/l',
    }, 's');
    expect(cache.lookup(listed('CONTAINER_RUNNING'))).toBeUndefined();
    cache.remember(running);
    expect(cache.lookup(listed('CONTAINER_RUNNING'))).toBe(running);
    expect(cache.lookup(listed('CONTAINER_EXITED'))).toBeUndefined();
    cache.forget('c1');
    expect(cache.lookup(listed('CONTAINER_RUNNING'))).toBeUndefined();
  });
});

describe('log rotation', () => {
  it('shifts the rotated files and drops the oldest', () => {
    expect(rotationSteps('/l/0.log', 3)).toEqual([
      { op: 'remove', path: '/l/0.log.2' },
      { op: 'rename', from: '/l/0.log.1', to: '/l/0.log.2' },
      { op: 'rename', from: '/l/0.log', to: '/l/0.log.1' },
    ]);
    expect(rotationSteps('/l/0.log', 1)).toEqual([]);
  });
});

describe('private containerd files', () => {
  it('gives each node directory its own bridge, subnet and socket', () => {
    expect(cniNetworkName('/a').length).toBeLessThanOrEqual(15);
    expect(cniNetworkName('/a')).not.toBe(cniNetworkName('/b'));
    expect(defaultPodSubnet('/a')).toMatch(/^10\.88\.\d{1,3}\.0\/24$/);
    expect(containerdLayout('/a').socket).toBe('/a/runtime/containerd/containerd.sock');
    // containerd refuses socket paths over 104 bytes: a deep directory gets a short one.
    const deep = `/tmp/${'d'.repeat(80)}`;
    expect(containerdLayout(deep).socket).toMatch(/^\/run\/kubus-cri\/[0-9a-f]{8}\/containerd\.sock$/);
    expect(containerdLayout(deep).root.startsWith(deep)).toBe(true);
  });

  it('writes the settings that make CRI work here', () => {
    const layout = containerdLayout('/n');
    const toml = containerdConfigToml({ layout, sandboxImage: 'kubus.local/pause:3.10', streamPort: 40000, cniBinDirectory: '/usr/lib/cni' });
    expect(toml).toContain('restrict_oom_score_adj = true');
    expect(toml).toContain('sandbox_image = "kubus.local/pause:3.10"');
    expect(toml).toContain('stream_server_address = "127.0.0.1"');
    expect(toml).toContain('stream_server_port = "40000"');
    expect(toml).toContain('bin_dir = "/usr/lib/cni"');
    expect(toml).toContain(`address = "${layout.socket}"`);
    const conflist = JSON.parse(cniConflist({ networkName: 'kubusabc', subnet: '10.88.7.0/24', ipamDirectory: '/n/ipam' })) as { plugins: { type: string; bridge?: string; ipam?: { ranges: { subnet: string }[][] } }[] };
    expect(conflist.plugins.map((p) => p.type)).toEqual(['bridge', 'portmap']);
    expect(conflist.plugins[0]?.bridge).toBe('kubusabc');
    expect(conflist.plugins[0]?.ipam?.ranges[0]?.[0]?.subnet).toBe('10.88.7.0/24');
  });
});
