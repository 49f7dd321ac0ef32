/**
 * The stream server's pure decisions (nodeagent/rpc/stream-request.ts): headers are checked
 * field by field; an exec or attach finds the running, highest-attempt instance of the named
 * container of the pod (by the runtime labels), or names why not (podNotFound, containerNotFound,
 * notRunning); a port-forward finds the pod's ready sandbox; resize messages are kubectl's JSON.
 */
import { describe, expect, it } from 'vitest';
import { checkStreamHeader, findContainer, findSandbox, parseResize, StreamRequestError } from '../../../nodeagent/rpc/stream-request.js';
import type { ExecStreamHeader, PortForwardStreamHeader } from '../../../nodeagent/rpc/stream-protocol.js';
import { runtimeLabels, type ContainerStatus, type PodSandboxStatus } from '../../../nodeagent/runtime/types.js';

const exec: ExecStreamHeader = { v: 1, op: 'exec', namespace: 'default', name: 'web', uid: 'u1', container: 'app', command: ['sh', '-c', 'exit 3'], stdin: false, stdout: true, stderr: true, tty: false };
const forward: PortForwardStreamHeader = { v: 1, op: 'portforward', namespace: 'default', name: 'web', uid: 'u1', port: 8080 };

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof StreamRequestError) return error.code;
    throw error;
  }
  return 'accepted';
}

function container(id: string, name: string, attempt: number, state: ContainerStatus['state'], uid = 'u1'): ContainerStatus {
  return {
    id, sandboxId: `sb-${uid}`, name, attempt, state, createdAtMs: 0, startedAtMs: 0, finishedAtMs: null, exitCode: null, reason: null, message: null, logPath: '', image: 'x',
    labels: { [runtimeLabels.podUid]: uid, [runtimeLabels.containerName]: name, [runtimeLabels.attempt]: String(attempt) },
  };
}

function sandbox(id: string, uid: string, state: PodSandboxStatus['state'], createdAtMs = 0): PodSandboxStatus {
  return { id, podUid: uid, state, ip: '127.64.0.2', createdAtMs, labels: { [runtimeLabels.podUid]: uid } };
}

describe('stream headers', () => {
  it('accepts well-formed exec, attach and port-forward headers and returns only their fields', () => {
    expect(checkStreamHeader({ ...exec, extra: 1 })).toEqual(exec);
    expect(checkStreamHeader({ ...exec, op: 'attach', command: [] })).toMatchObject({ op: 'attach', command: [] });
    expect(checkStreamHeader(forward)).toEqual(forward);
  });

  it('refuses malformed ones as badRequest', () => {
    for (const bad of [null, 'x', { ...exec, v: 2 }, { ...exec, op: 'run' }, { ...exec, name: 'a/b' }, { ...exec, uid: '' }, { ...exec, container: '..' },
      { ...exec, command: [] }, { ...exec, command: ['ok', 3] }, { ...exec, tty: 'yes' }, { ...exec, stdin: false, stdout: false, stderr: false },
      { ...forward, port: 0 }, { ...forward, port: 70_000 }, { ...forward, port: 80.5 }]) {
      expect(refusal(() => checkStreamHeader(bad)), JSON.stringify(bad)).toBe('badRequest');
    }
  });
});

describe('finding the target', () => {
  it('exec and attach take the running instance with the highest attempt', () => {
    const listed = [container('c0', 'app', 0, 'exited'), container('c2', 'app', 2, 'running'), container('c1', 'app', 1, 'running'), container('s', 'sidecar', 0, 'running'), container('o', 'app', 5, 'running', 'other')];
    expect(findContainer(exec, listed, [sandbox('sb-u1', 'u1', 'ready')], 'n1').id).toBe('c2');
  });

  it('names why there is none: no such pod, no such container, not running', () => {
    expect(refusal(() => findContainer(exec, [container('o', 'app', 0, 'running', 'other')], [], 'n1'))).toBe('podNotFound');
    expect(refusal(() => findContainer(exec, [container('s', 'sidecar', 0, 'running')], [], 'n1'))).toBe('containerNotFound');
    // A pod whose sandbox exists but whose container was not created yet: the container is not (yet) valid.
    expect(refusal(() => findContainer(exec, [], [sandbox('sb-u1', 'u1', 'ready')], 'n1'))).toBe('containerNotFound');
    expect(refusal(() => findContainer(exec, [container('c0', 'app', 0, 'exited'), container('c1', 'app', 1, 'created')], [], 'n1'))).toBe('notRunning');
  });

  it('port-forward takes the pod\'s ready sandbox, the newest of several', () => {
    expect(findSandbox(forward, [sandbox('old', 'u1', 'ready', 1), sandbox('new', 'u1', 'ready', 2), sandbox('x', 'u2', 'ready', 3)], 'n1').id).toBe('new');
    expect(refusal(() => findSandbox(forward, [sandbox('x', 'u2', 'ready')], 'n1'))).toBe('podNotFound');
    expect(refusal(() => findSandbox(forward, [sandbox('gone', 'u1', 'notready')], 'n1'))).toBe('notRunning');
  });
});

describe('resize messages', () => {
  it('reads kubectl\'s JSON and ignores anything else', () => {
    expect(parseResize(Buffer.from('{"Width":100,"Height":30}\n'))).toEqual({ columns: 100, rows: 30 });
    for (const bad of ['{"width":100,"height":30}', '{"Width":-1,"Height":3}', '{"Width":1e9,"Height":3}', 'nope', '[1,2]', `{"Width":1,"Height":2,"x":"${'a'.repeat(300)}"}`]) {
      expect(parseResize(Buffer.from(bad)), bad).toBeNull();
    }
  });
});
