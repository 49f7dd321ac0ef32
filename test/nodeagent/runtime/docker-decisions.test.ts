/**
 * The docker runtime's pure parts, without an engine: what the engine is asked to create (Kubernetes'
 * command/args over ENTRYPOINT/CMD, resources as the kubelet maps them, the sandbox's network,
 * DNS and hostPorts, labels for adoption), how its records read as statuses (OOMKilled,
 * ContainerCannotRun, never-started times), the multiplexed stream's frames, the log resume
 * point (each line once across an agent restart), image policy decisions, engine events and
 * the memory working set.
 */
import type { ContainerInfo, ContainerInspectInfo } from 'dockerode';
import { describe, expect, it } from 'vitest';
import { formatCriTimestamp } from '../../../nodeagent/runtime/cri-log-writer.js';
import { containerSpec, dnsSpec, entrypointAndCmd, resourceSpec, sandboxSpec } from '../../../nodeagent/runtime/docker/create-specs.js';
import { parseEngineEvent } from '../../../nodeagent/runtime/docker/event-stream.js';
import { FrameDemuxer, FrameDemuxerError } from '../../../nodeagent/runtime/docker/frame-demuxer.js';
import { authFor, isValidReference, pullDecision, registryOf, withDefaultTag } from '../../../nodeagent/runtime/docker/images.js';
import { initFailureOf } from '../../../nodeagent/runtime/docker/init-failure.js';
import { InspectCache } from '../../../nodeagent/runtime/docker/inspect-cache.js';
import { dockerLabels, ownerOf } from '../../../nodeagent/runtime/docker/labels.js';
import { checkDockerLimits } from '../../../nodeagent/runtime/docker/limits.js';
import { EngineLineAssembler } from '../../../nodeagent/runtime/docker/log-pump.js';
import { ResumeFilter, resumePointOf } from '../../../nodeagent/runtime/docker/log-resume.js';
import { workingSetBytes } from '../../../nodeagent/runtime/docker/stats.js';
import { containerStatusOf, engineTimeMs, sandboxStatusOf } from '../../../nodeagent/runtime/docker/views.js';
import { runtimeLabels, type ContainerConfig, type PodSandboxConfig } from '../../../nodeagent/runtime/types.js';

const sandbox: PodSandboxConfig = {
  uid: 'aaaabbbb-cccc', name: 'web', namespace: 'shop', attempt: 1, hostname: 'web-host', labels: { app: 'web' }, annotations: {},
  hostNetwork: false, logDirectory: '/logs/shop_web_aaaabbbb-cccc',
  dns: { servers: ['10.0.0.10'], searches: ['shop.svc.cluster.local'], options: ['ndots:5'] },
  portMappings: [
    { containerPort: 8080, hostPort: 18080, protocol: 'TCP' },
    { containerPort: 53, hostPort: 1053, protocol: 'UDP', hostIp: '127.0.0.1' },
    { containerPort: 9090, protocol: 'TCP' },
  ],
};

const container: ContainerConfig = {
  name: 'app', image: 'kubus.local/busybox:1.35', command: ['httpd'], args: ['-f', '-p', '8080'], workingDir: '/srv',
  env: [{ name: 'A', value: '1' }, { name: 'B', value: 'x=y' }],
  mounts: [{ hostPath: '/data/v', containerPath: '/v', readOnly: true }, { hostPath: '/data/w', containerPath: '/w', readOnly: false }],
  resources: { cpuLimitMillis: 500, cpuRequestMillis: 250, memoryLimitBytes: 64 * 1024 * 1024 },
  logPath: '/logs/shop_web_aaaabbbb-cccc/app/2.log', attempt: 2, labels: {},
  stdin: true, tty: false, securityContext: { runAsUser: 1000, runAsGroup: 1000, readOnlyRootFilesystem: true },
};

describe('create specs', () => {
  it('a sandbox holds the network, hostname, DNS and hostPorts, labelled for adoption', () => {
    const spec = sandboxSpec(sandbox, { owner: 'o1', image: 'kubus.local/pause:3.10', network: 'bridge', namePrefix: 'kubus', nameSuffix: 'abc' });
    expect(spec.name).toBe('kubus_POD_web_shop_aaaabbbb_1_abc');
    expect(spec.Hostname).toBe('web-host');
    expect(spec.HostConfig).toMatchObject({
      NetworkMode: 'bridge', Init: true, IpcMode: 'shareable',
      Dns: ['10.0.0.10'], DnsSearch: ['shop.svc.cluster.local'], DnsOptions: ['ndots:5'],
      PortBindings: { '8080/tcp': [{ HostIp: '', HostPort: '18080' }], '53/udp': [{ HostIp: '127.0.0.1', HostPort: '1053' }] },
    });
    expect(Object.keys(spec.ExposedPorts ?? {})).toEqual(['8080/tcp', '53/udp']);
    expect(spec.Labels).toMatchObject({ app: 'web', [dockerLabels.owner]: 'o1', [dockerLabels.kind]: 'sandbox', [runtimeLabels.podUid]: 'aaaabbbb-cccc', [dockerLabels.hostNetwork]: 'false' });
  });

  it('a hostNetwork sandbox uses the host network, keeps the node hostname and binds no ports', () => {
    const spec = sandboxSpec({ ...sandbox, hostNetwork: true }, { owner: 'o1', image: 'p', network: 'bridge', namePrefix: 'kubus', nameSuffix: 'abc' });
    expect(spec.HostConfig?.NetworkMode).toBe('host');
    expect(spec.Hostname).toBeUndefined();
    expect(spec.HostConfig?.PortBindings).toEqual({});
  });

  it('a container joins its sandbox with Init, env, binds, user, limits and its labels', () => {
    const spec = containerSpec(container, sandbox, { owner: 'o1', sandboxId: 'sb1', namePrefix: 'kubus', nameSuffix: 'def' });
    expect(spec).toMatchObject({
      name: 'kubus_app_web_shop_aaaabbbb_2_def', Image: 'kubus.local/busybox:1.35', Entrypoint: ['httpd'], Cmd: ['-f', '-p', '8080'],
      Env: ['A=1', 'B=x=y'], WorkingDir: '/srv', User: '1000:1000', OpenStdin: true, Tty: false,
    });
    expect(spec.HostConfig).toMatchObject({
      NetworkMode: 'container:sb1', IpcMode: 'container:sb1', Init: true, Binds: ['/data/v:/v:ro', '/data/w:/w'], ReadonlyRootfs: true, Privileged: false,
      CpuShares: 256, CpuPeriod: 100_000, CpuQuota: 50_000, Memory: 64 * 1024 * 1024, MemorySwap: 64 * 1024 * 1024,
    });
    expect(spec.Labels).toMatchObject({
      [dockerLabels.sandbox]: 'sb1', [dockerLabels.logPath]: container.logPath, [dockerLabels.kind]: 'container',
      [runtimeLabels.containerName]: 'app', [runtimeLabels.attempt]: '2', [runtimeLabels.podName]: 'web', [runtimeLabels.podNamespace]: 'shop',
    });
  });

  it('command replaces ENTRYPOINT (and drops CMD), args alone replace CMD, neither keeps the image\'s', () => {
    expect(entrypointAndCmd(['sh'], [])).toEqual({ Entrypoint: ['sh'], Cmd: [] });
    expect(entrypointAndCmd([], ['-c', 'x'])).toEqual({ Cmd: ['-c', 'x'] });
    expect(entrypointAndCmd([], [])).toEqual({});
  });

  it('DNS: only plain addresses the sandbox can reach; none left means the engine\'s default', () => {
    const dns = { servers: ['127.0.0.53', '10.96.0.10:1053', '10.96.0.10'], searches: ['a.svc'], options: ['ndots:5'] };
    expect(dnsSpec({ dns, hostNetwork: false })).toEqual({ Dns: ['10.96.0.10'], DnsSearch: ['a.svc'], DnsOptions: ['ndots:5'] });
    expect(dnsSpec({ dns, hostNetwork: true }).Dns).toEqual(['127.0.0.53', '10.96.0.10']);
    expect(dnsSpec({ dns: { ...dns, servers: ['127.0.0.1'] }, hostNetwork: false }).Dns).toBeUndefined();
    expect(dnsSpec({ hostNetwork: false })).toEqual({});
  });

  it('resources: at least 2 shares, quota over a 100 ms period, no swap beyond the limit', () => {
    expect(resourceSpec({ cpuRequestMillis: 1 })).toEqual({ CpuShares: 2 });
    expect(resourceSpec({ cpuLimitMillis: 2000 })).toEqual({ CpuPeriod: 100_000, CpuQuota: 200_000 });
    expect(resourceSpec({})).toEqual({});
  });
});

function inspectInfo(state: Partial<ContainerInspectInfo['State']>): ContainerInspectInfo {
  return {
    Id: 'c1', Created: '2026-12-03T10:00:00.5Z', Name: '/kubus_app', Config: { Image: 'img', Labels: { [dockerLabels.sandbox]: 'sb1', [runtimeLabels.containerName]: 'app', [runtimeLabels.attempt]: '3', [dockerLabels.logPath]: '/l/3.log', [dockerLabels.image]: 'kubus.local/busybox:1.35' } },
    State: { Status: 'running', Running: true, Paused: false, Restarting: false, OOMKilled: false, Dead: false, Pid: 1, ExitCode: 0, Error: '', StartedAt: '2026-12-03T10:00:01Z', FinishedAt: '0001-01-01T00:00:00Z', ...state },
  } as unknown as ContainerInspectInfo;
}

describe('views', () => {
  it('a running container: started, not finished, no code', () => {
    expect(containerStatusOf(inspectInfo({}))).toMatchObject({
      id: 'c1', sandboxId: 'sb1', name: 'app', attempt: 3, state: 'running', createdAtMs: Date.parse('2026-12-03T10:00:00.5Z'),
      startedAtMs: Date.parse('2026-12-03T10:00:01Z'), finishedAtMs: null, exitCode: null, reason: null, logPath: '/l/3.log', image: 'kubus.local/busybox:1.35',
    });
  });

  it('exits read as Completed, Error, OOMKilled; a process the engine could not start as ContainerCannotRun', () => {
    const finished = { Status: 'exited', Running: false, FinishedAt: '2026-12-03T10:00:09Z' };
    expect(containerStatusOf(inspectInfo({ ...finished, ExitCode: 0 }))).toMatchObject({ state: 'exited', exitCode: 0, reason: 'Completed', finishedAtMs: Date.parse('2026-12-03T10:00:09Z') });
    expect(containerStatusOf(inspectInfo({ ...finished, ExitCode: 2 }))).toMatchObject({ reason: 'Error', exitCode: 2 });
    expect(containerStatusOf(inspectInfo({ ...finished, ExitCode: 137, OOMKilled: true }))).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
    const cannot = containerStatusOf(inspectInfo({ Status: 'created', Running: false, ExitCode: 127, StartedAt: '0001-01-01T00:00:00Z', Error: 'exec: "nope": executable file not found in $PATH' }));
    expect(cannot).toMatchObject({ state: 'exited', reason: 'ContainerCannotRun', exitCode: 127, startedAtMs: null, message: 'exec: "nope": executable file not found in $PATH' });
  });

  it('an init that could not exec the command makes an exit 127 ContainerCannotRun with its words', () => {
    const said = initFailureOf('[FATAL tini (7)] exec /no/such failed: No such file or directory\n');
    expect(said).toBe('exec /no/such failed: No such file or directory');
    expect(initFailureOf('sh: nope: not found\n')).toBeNull();
    const exited = inspectInfo({ Status: 'exited', Running: false, ExitCode: 127, FinishedAt: '2026-12-03T10:00:02Z' });
    expect(containerStatusOf(exited, said)).toMatchObject({ state: 'exited', reason: 'ContainerCannotRun', message: said, exitCode: 127 });
    expect(containerStatusOf(exited, null)).toMatchObject({ reason: 'Error', message: null });
  });

  it('engine zero times are never', () => {
    expect(engineTimeMs('0001-01-01T00:00:00Z')).toBeNull();
    expect(engineTimeMs('')).toBeNull();
    expect(engineTimeMs('2026-12-03T10:00:00.123456789Z')).toBe(Date.parse('2026-12-03T10:00:00.123Z'));
  });

  it('a sandbox\'s address is its network\'s, or the node\'s on the host network', () => {
    const listed = { Id: 'sb1', Created: 100, State: 'running', Labels: { [runtimeLabels.podUid]: 'u1' }, NetworkSettings: { Networks: { bridge: { IPAddress: '172.17.0.5' } } } } as unknown as ContainerInfo;
    expect(sandboxStatusOf(listed, '10.1.1.1')).toEqual({ id: 'sb1', podUid: 'u1', state: 'ready', ip: '172.17.0.5', createdAtMs: 100_000, labels: listed.Labels });
    const host = { ...listed, State: 'exited', Labels: { [dockerLabels.hostNetwork]: 'true' }, NetworkSettings: { Networks: { host: { IPAddress: '' } } } } as unknown as ContainerInfo;
    expect(sandboxStatusOf(host, '10.1.1.1')).toMatchObject({ state: 'notready', ip: '10.1.1.1' });
  });
});

function frame(kind: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = kind;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('frame demuxer', () => {
  it('hands out whole payloads in order from chunks cut anywhere', () => {
    const bytes = Buffer.concat([frame(1, 'out1\n'), frame(2, 'err1\n'), frame(1, 'out2')]);
    const seen: string[] = [];
    const demuxer = new FrameDemuxer();
    for (let offset = 0; offset < bytes.length; offset += 3) demuxer.push(bytes.subarray(offset, offset + 3), (stream, payload) => seen.push(`${stream}:${payload.toString()}`));
    expect(seen).toEqual(['stdout:out1\n', 'stderr:err1\n', 'stdout:out2']);
    expect(demuxer.pendingBytes).toBe(0);
  });

  it('a header of an unknown kind is a broken stream', () => {
    expect(() => new FrameDemuxer().push(frame(7, 'x'), () => undefined)).toThrow(FrameDemuxerError);
  });
});

describe('log resume', () => {
  const at = (ms: number) => formatCriTimestamp(new Date(ms));

  it('the resume point is the last line\'s millisecond and the whole lines written at it', () => {
    const tail = Buffer.from([
      `${at(1000)} stdout F a`, `${at(2000)} stdout F b`, `${at(2000)} stderr P long-`, `${at(2000)} stderr F end`, `${at(2000)} stdout F c`, '',
    ].join('\n'));
    expect(resumePointOf(tail)).toEqual({ lastMs: 2000, linesAtLastMs: 3 });
    expect(resumePointOf(Buffer.alloc(0))).toEqual({ lastMs: 0, linesAtLastMs: 0 });
  });

  it('a resumed follow skips what was written and keeps what was not', () => {
    const filter = new ResumeFilter({ lastMs: 2000, linesAtLastMs: 2 });
    expect(filter.sinceSeconds).toBe(2);
    expect([1500, 2000, 2000, 2000, 2500].map((ms) => filter.isNew(ms))).toEqual([false, false, false, true, true]);
  });

  it('engine lines are split per stream, stamped with their own time, a terminal\'s \\r dropped', () => {
    const lines: string[] = [];
    const assembler = new EngineLineAssembler((stream, ms, content) => lines.push(`${stream}@${ms}:${content.toString()}`));
    assembler.push('stdout', Buffer.from('2026-12-03T10:00:00.001000000Z hel'));
    assembler.push('stderr', Buffer.from('2026-12-03T10:00:00.002000000Z oops\n'));
    assembler.push('stdout', Buffer.from('lo\r\n2026-12-03T10:00:00.003000000Z last'));
    assembler.flush();
    const base = Date.parse('2026-12-03T10:00:00Z');
    expect(lines).toEqual([`stderr@${base + 2}:oops`, `stdout@${base + 1}:hello`, `stdout@${base + 3}:last`]);
  });
});

describe('images', () => {
  it('references: valid shapes, registries, default tags', () => {
    expect(isValidReference('kubus.local/busybox:1.35')).toBe(true);
    expect(isValidReference('nginx')).toBe(true);
    expect(isValidReference('localhost:5000/a/b@sha256:' + 'a'.repeat(64))).toBe(true);
    expect(isValidReference('Not A Name')).toBe(false);
    expect(isValidReference('UPPER/case')).toBe(false);
    expect(registryOf('nginx')).toBe('docker.io');
    expect(registryOf('library/nginx')).toBe('docker.io');
    expect(registryOf('localhost/x')).toBe('localhost');
    expect(registryOf('ghcr.io/a/b:1')).toBe('ghcr.io');
    expect(withDefaultTag('nginx')).toBe('nginx:latest');
    expect(withDefaultTag('localhost:5000/x')).toBe('localhost:5000/x:latest');
    expect(withDefaultTag('x:1')).toBe('x:1');
  });

  it('credentials match the image\'s registry; Docker Hub by any of its names', () => {
    const auths = [{ registry: 'https://index.docker.io/v1/', username: 'hub' }, { registry: 'ghcr.io', username: 'gh' }];
    expect(authFor('nginx', auths)?.username).toBe('hub');
    expect(authFor('ghcr.io/a/b', auths)?.username).toBe('gh');
    expect(authFor('quay.io/a', auths)).toBeUndefined();
  });

  it('pull policy: Always pulls, IfNotPresent pulls when absent, Never refuses; kubus.local is never pulled', () => {
    expect(pullDecision('nginx:1', 'Always', true)).toBe('pull');
    expect(pullDecision('nginx:1', 'IfNotPresent', true)).toBe('present');
    expect(pullDecision('nginx:1', 'IfNotPresent', false)).toBe('pull');
    expect(pullDecision('nginx:1', 'Never', false)).toBe('neverPull');
    expect(pullDecision('kubus.local/busybox:latest', 'Always', true)).toBe('present');
    expect(pullDecision('kubus.local/busybox:1.35', 'IfNotPresent', false)).toBe('neverPull');
  });
});

describe('engine events, stats, cache, owner', () => {
  it('start and die of a container become started and exited; sandboxes and other actions are not reported', () => {
    const attributes = { [dockerLabels.kind]: 'container', [dockerLabels.sandbox]: 'sb1', [runtimeLabels.podUid]: 'u1' };
    const line = (action: string, extra: Record<string, string> = {}) => JSON.stringify({ Type: 'container', Action: action, Actor: { ID: 'c1', Attributes: { ...attributes, ...extra } }, timeNano: 1_700_000_000_123_456_789 });
    expect(parseEngineEvent(line('die'))).toMatchObject({ type: 'exited', containerId: 'c1', sandboxId: 'sb1', podUid: 'u1' });
    expect(parseEngineEvent(line('start'))?.type).toBe('started');
    expect(parseEngineEvent(line('oom'))).toBeNull();
    expect(parseEngineEvent(line('die', { [dockerLabels.kind]: 'sandbox' }))).toBeNull();
    expect(parseEngineEvent('not json')).toBeNull();
  });

  it('the working set is usage minus inactive file pages', () => {
    expect(workingSetBytes({ memory_stats: { usage: 1000, stats: { total_inactive_file: 300 } } })).toBe(700);
    expect(workingSetBytes({ memory_stats: { usage: 1000, stats: { inactive_file: 1200 } } })).toBe(0);
    expect(workingSetBytes({})).toBe(0);
  });

  it('an inspection is reused only while the listed state matches', () => {
    const cache = new InspectCache();
    const info = inspectInfo({});
    cache.put(info);
    expect(cache.get('c1', 'running')).toBe(info);
    expect(cache.get('c1', 'exited')).toBeUndefined();
    cache.retain(new Set());
    expect(cache.get('c1', 'running')).toBeUndefined();
  });

  it('the owner is stable for a directory and differs between directories; limits are consistent', () => {
    expect(ownerOf('/var/lib/kubus/agent')).toBe(ownerOf('/var/lib/kubus/agent/'));
    expect(ownerOf('/a')).not.toBe(ownerOf('/b'));
    checkDockerLimits();
  });
});
