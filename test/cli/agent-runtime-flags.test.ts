/**
 * Runtime selection (issue 13 §1): `kubus agent --runtime cri|docker|process|hollow` with
 * `--cri-socket`, `--cri-pod-subnet`, `--docker-socket` and `--allow-privileged` becomes the
 * agent's runtime, runtime settings and privilege switch, `--metrics-address` its /metrics
 * address (flags for another runtime refused, bad values named with their form); `kubus up`
 * without `--runtime` picks cri when containerd is installed (or a socket answers), else docker
 * when an engine answers, else process, with the reason (passing over one that lacks the CNI
 * plugins or gcc), and `--runtime cri|docker` names the packages it lacks; local cri agents each
 * get their own bridge subnet.
 */
import { describe, expect, it } from 'vitest';
import { parseRuntime, runtimeSettingsFromFlags, type AgentFlags } from '../../actors/cli/commands/agent-flags.js';
import { agentOptionsFromFlags } from '../../actors/cli/commands/agent.js';
import { agentRuntimeArgs, chooseUpRuntime, dockerSocketFromEnv, missingRuntimePackages } from '../../actors/cli/commands/up-runtime.js';
import { createJsonLogger } from '../../bus/logger.js';

const base: AgentFlags = { dir: '/tmp/a', runtime: 'process', maxPods: '110', nodeLeaseRenewInterval: '10s', logLevel: 'info', nodeIp: '127.0.0.1' };

describe('kubus agent runtime flags', () => {
  it('accepts the four runtimes and names them when refusing another', () => {
    for (const name of ['cri', 'docker', 'process', 'hollow']) expect(parseRuntime(name)).toBe(name);
    expect(() => parseRuntime('containerd')).toThrow(/cri, docker, process, hollow/);
  });

  it('turns the socket and subnet flags into runtime settings', () => {
    expect(runtimeSettingsFromFlags({ ...base, criSocket: 'unix:///run/containerd/containerd.sock', criPodSubnet: '10.88.3.0/24' }, 'cri'))
      .toEqual({ cri: { socket: '/run/containerd/containerd.sock', podSubnet: '10.88.3.0/24' } });
    expect(runtimeSettingsFromFlags(base, 'cri')).toEqual({ cri: {} });
    expect(runtimeSettingsFromFlags({ ...base, dockerSocket: '/var/run/docker.sock' }, 'docker')).toEqual({ docker: { socket: '/var/run/docker.sock' } });
    expect(runtimeSettingsFromFlags(base, 'process')).toEqual({});
  });

  it('refuses flags of another runtime and malformed values', () => {
    expect(() => runtimeSettingsFromFlags({ ...base, dockerSocket: '/var/run/docker.sock' }, 'cri')).toThrow(/--docker-socket applies to --runtime docker/);
    expect(() => runtimeSettingsFromFlags({ ...base, criPodSubnet: '10.88.0.0/24' }, 'process')).toThrow(/--runtime cri/);
    expect(() => runtimeSettingsFromFlags({ ...base, criPodSubnet: '10.88.0.0' }, 'cri')).toThrow(/IPv4 CIDR/);
    expect(() => runtimeSettingsFromFlags({ ...base, criSocket: 'localhost:1234' }, 'cri')).toThrow(/unix socket path/);
  });

  it('passes runtime, settings and --allow-privileged to the agent', () => {
    const logger = createJsonLogger({ level: 'error' });
    const options = agentOptionsFromFlags({ ...base, runtime: 'docker', dockerSocket: '/run/d.sock', allowPrivileged: true }, logger);
    expect(options.runtime).toBe('docker');
    expect(options.runtimeSettings).toEqual({ docker: { socket: '/run/d.sock' } });
    expect(options.allowPrivileged).toBe(true);
    expect(agentOptionsFromFlags(base, logger).allowPrivileged).toBe(false);
  });

  it('serves /metrics on the node address by default, elsewhere or not at all when told', () => {
    const logger = createJsonLogger({ level: 'error' });
    expect(agentOptionsFromFlags(base, logger).metricsAddress).toEqual({ host: '127.0.0.1', port: 10255 });
    expect(agentOptionsFromFlags({ ...base, metricsAddress: ':9100' }, logger).metricsAddress).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(agentOptionsFromFlags({ ...base, metricsAddress: 'off' }, logger).metricsAddress).toBeNull();
    expect(agentOptionsFromFlags({ ...base, hollowNodes: '10' }, logger).metricsAddress).toBeNull();
    expect(() => agentOptionsFromFlags({ ...base, metricsAddress: 'nowhere' }, logger)).toThrow(/--metrics-address/);
  });
});

describe('kubus up runtime choice', () => {
  const none = { containerdSocket: null, containerdBinary: null, dockerEngine: null, cniPlugins: true, compiler: true, dockerd: null, staticBusybox: true };

  it('prefers containerd, then a Docker Engine, then host processes, and says why', () => {
    expect(chooseUpRuntime({ ...none, containerdBinary: '/usr/bin/containerd', dockerEngine: '/var/run/docker.sock' })).toMatchObject({ runtime: 'cri', reason: expect.stringContaining('/usr/bin/containerd') });
    const socketOnly = chooseUpRuntime({ ...none, containerdSocket: '/run/containerd/containerd.sock' });
    expect(socketOnly).toMatchObject({ runtime: 'cri', criSocket: '/run/containerd/containerd.sock' });
    expect(chooseUpRuntime({ ...none, dockerEngine: '/var/run/docker.sock' })).toMatchObject({ runtime: 'docker', reason: expect.stringContaining('Docker Engine') });
    expect(chooseUpRuntime(none)).toMatchObject({ runtime: 'process', reason: expect.stringContaining('apt-get install') });
  });

  it('passes over a runtime that cannot run pods here, and names what to install', () => {
    const noCni = chooseUpRuntime({ ...none, containerdBinary: '/usr/bin/containerd', dockerEngine: '/var/run/docker.sock', cniPlugins: false });
    expect(noCni).toMatchObject({ runtime: 'docker', reason: expect.stringContaining('containernetworking-plugins') });
    const noGcc = chooseUpRuntime({ ...none, containerdBinary: '/usr/bin/containerd', dockerEngine: '/var/run/docker.sock', compiler: false });
    expect(noGcc).toMatchObject({ runtime: 'process', reason: expect.stringContaining('apt-get install -y gcc') });
  });

  it('names the packages an asked-for runtime lacks (installed by up as root)', () => {
    expect(missingRuntimePackages('cri', none)).toEqual(['containerd']);
    expect(missingRuntimePackages('cri', { ...none, containerdBinary: '/usr/bin/containerd', cniPlugins: false, compiler: false })).toEqual(['containernetworking-plugins', 'gcc', 'libc6-dev']);
    expect(missingRuntimePackages('docker', { ...none, staticBusybox: false })).toEqual(['docker.io', 'busybox-static']);
    expect(missingRuntimePackages('docker', { ...none, dockerd: '/usr/sbin/dockerd' })).toEqual([]);
    expect(missingRuntimePackages('process', { ...none, compiler: false })).toEqual([]);
  });

  it('gives each local cri agent its own bridge subnet, or the shared socket', () => {
    expect(agentRuntimeArgs(1, { runtime: 'cri' })).toEqual(['--cri-pod-subnet', '10.88.1.0/24']);
    expect(agentRuntimeArgs(2, { runtime: 'cri' })).toEqual(['--cri-pod-subnet', '10.88.2.0/24']);
    expect(agentRuntimeArgs(1, { runtime: 'cri', criSocket: '/run/c.sock' })).toEqual(['--cri-socket', '/run/c.sock']);
    expect(agentRuntimeArgs(1, { runtime: 'docker' })).toEqual([]);
  });

  it('reads the engine socket from DOCKER_HOST when it is a unix socket', () => {
    expect(dockerSocketFromEnv({ DOCKER_HOST: 'unix:///tmp/d.sock' })).toBe('/tmp/d.sock');
    expect(dockerSocketFromEnv({ DOCKER_HOST: 'tcp://1.2.3.4:2375' })).toBe('/var/run/docker.sock');
    expect(dockerSocketFromEnv({})).toBe('/var/run/docker.sock');
  });
});
