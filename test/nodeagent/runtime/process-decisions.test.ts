/**
 * The process runtime's pure decisions: a container's state from what is observable (recorded
 * exit, liveness of wrapper and container, OOM count, a command that could not run), /proc stat
 * parsing with awkward command names, the container environment (exactly its own plus PATH and
 * mount variables) and the command check behind ContainerCannotRun.
 */
import { describe, expect, it } from 'vitest';
import { decideContainerState, vanishedExitCode, type ContainerObservation } from '../../../nodeagent/runtime/process/container-state.js';
import { parseProcStat } from '../../../nodeagent/runtime/process/proc.js';
import { containerEnvironment, mountVariableName } from '../../../nodeagent/runtime/process/container-files.js';
import { commandProblem } from '../../../nodeagent/runtime/process/wrapper.js';
import { shellExitCode } from '../../../nodeagent/runtime/process/exec-sync.js';

const base: ContainerObservation = {
  startedAtMs: 1_000, cannotRun: null, wrapperAlive: false, containerAlive: false, recordedExitCode: undefined, recordedAtMs: undefined, oomKills: 0, nowMs: 9_000,
};

describe('decideContainerState', () => {
  it('is created before start and running while either process lives', () => {
    expect(decideContainerState({ ...base, startedAtMs: null }).state).toBe('created');
    expect(decideContainerState({ ...base, wrapperAlive: true }).state).toBe('running');
    expect(decideContainerState({ ...base, containerAlive: true }).state).toBe('running');
  });

  it('reports the recorded exit with its reason and time', () => {
    expect(decideContainerState({ ...base, recordedExitCode: 0, recordedAtMs: 5_000 })).toMatchObject({ state: 'exited', exitCode: 0, reason: 'Completed', finishedAtMs: 5_000 });
    expect(decideContainerState({ ...base, recordedExitCode: 143, recordedAtMs: 5_000 })).toMatchObject({ exitCode: 143, reason: 'Error' });
    expect(decideContainerState({ ...base, recordedExitCode: 137, recordedAtMs: 5_000, oomKills: 1 })).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    // The wrapper wrote the exit but has not been reaped yet: the record wins.
    expect(decideContainerState({ ...base, wrapperAlive: true, recordedExitCode: 3 }).state).toBe('exited');
  });

  it('says ContainerCannotRun for a command that could not start and Unknown for vanished processes', () => {
    expect(decideContainerState({ ...base, cannotRun: 'exec: "x": executable file not found in $PATH' })).toMatchObject({ state: 'exited', exitCode: 127, reason: 'ContainerCannotRun' });
    expect(decideContainerState(base)).toMatchObject({ state: 'exited', exitCode: vanishedExitCode, reason: 'Unknown', finishedAtMs: 9_000 });
  });
});

describe('parseProcStat', () => {
  it('reads group, cpu, start time and rss after a command name with spaces and parentheses', () => {
    const fields = ['S', '1', '4242', '4242', '0', '-1', '4194560', '0', '0', '0', '0', '30', '12', '0', '0', '20', '0', '1', '0', '98765', '1000', '250'];
    const stat = parseProcStat(`4243 (my (odd) name) ${fields.join(' ')}`);
    expect(stat).toEqual({ pid: 4243, state: 'S', processGroup: 4242, cpuTicks: 42, startTicks: 98765, rssPages: 250 });
    expect(parseProcStat('garbage')).toBeUndefined();
  });
});

describe('container environment', () => {
  it('is exactly the container env plus PATH and mount variables it does not set itself', () => {
    const env = containerEnvironment({
      env: [{ name: 'A', value: '1' }, { name: 'KUBUS_MOUNT_DATA', value: 'mine' }],
      mounts: [{ containerPath: '/etc/config', hostPath: '/h/config', readOnly: true }, { containerPath: '/data', hostPath: '/h/data', readOnly: false }],
    }, '/usr/bin');
    expect(Object.fromEntries(env)).toEqual({ A: '1', KUBUS_MOUNT_DATA: 'mine', PATH: '/usr/bin', KUBUS_MOUNT_ETC_CONFIG: '/h/config' });
    expect(containerEnvironment({ env: [{ name: 'PATH', value: '/opt' }], mounts: [] }, '/usr/bin').get('PATH')).toBe('/opt');
    expect(mountVariableName('/var/run/secrets/kubernetes.io/serviceaccount')).toBe('KUBUS_MOUNT_VAR_RUN_SECRETS_KUBERNETES_IO_SERVICEACCOUNT');
  });
});

describe('commandProblem', () => {
  it('resolves commands on the container PATH as exec would', () => {
    expect(commandProblem('sh', new Map([['PATH', '/nonexistent:/bin:/usr/bin']]), '/')).toBeNull();
    expect(commandProblem('sh', new Map([['PATH', '/nonexistent']]), '/')).toContain('not found in $PATH');
    expect(commandProblem('/bin/sh', new Map(), '/')).toBeNull();
    expect(commandProblem('./missing', new Map(), '/tmp')).toContain('no such executable');
  });

  it('reports signals as a shell does', () => {
    expect(shellExitCode(3, null)).toBe(3);
    expect(shellExitCode(null, 'SIGKILL')).toBe(137);
    expect(shellExitCode(null, 'SIGTERM')).toBe(143);
  });
});
