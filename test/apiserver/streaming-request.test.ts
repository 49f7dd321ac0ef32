/**
 * The pure decisions of the streaming verbs (actors/apiserver/http/streaming/): which paths are
 * exec/attach/port-forward; PodExecOptions as kubectl sends them with Kubernetes' refusals; the
 * pod pre-flight (container defaulting and its 400s, completed pods refused with kubectl's words,
 * an unbound pod 400); the SPDY refusal naming the kubectl variable; the channel-3 Status kubectl
 * turns into its exit code; and the agent's refusals mapped to Kubernetes' codes.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { StreamOpenError, StreamRefusedError } from '../../bus/stream/index.js';
import {
  channelStatusOf, parseExecOptions, parseStreamPath, parseStreamStatus, planStream, spdyRefusal, toApiError,
} from '../../actors/apiserver/http/streaming/index.js';
import { ApiError } from '../../actors/apiserver/status.js';

const pod = (options: { containers?: string[]; init?: string[]; node?: string; phase?: string }): Pod => ({
  metadata: { name: 'web', namespace: 'default', uid: 'u1' },
  spec: {
    containers: (options.containers ?? ['app']).map((name) => ({ name })),
    ...(options.init !== undefined ? { initContainers: options.init.map((name) => ({ name })) } : {}),
    ...(options.node !== undefined ? { nodeName: options.node } : {}),
  },
  status: { phase: options.phase ?? 'Running' },
});

const statusOf = (fn: () => unknown): { code: number; message: string } => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return { code: error.httpStatus, message: error.message };
    throw error;
  }
  throw new Error('expected an ApiError');
};

describe('parseStreamPath', () => {
  it('recognizes the three verbs under a namespaced pod, and nothing else', () => {
    expect(parseStreamPath('/api/v1/namespaces/default/pods/web/exec')).toEqual({ namespace: 'default', name: 'web', verb: 'exec' });
    expect(parseStreamPath('/api/v1/namespaces/ns%2D1/pods/web/portforward')).toEqual({ namespace: 'ns-1', name: 'web', verb: 'portforward' });
    expect(parseStreamPath('/api/v1/namespaces/default/pods/web/attach')?.verb).toBe('attach');
    for (const path of ['/api/v1/namespaces/default/pods/web/log', '/api/v1/pods/web/exec', '/apis/x/v1/namespaces/d/pods/web/exec', '/api/v1/namespaces/default/pods/web/exec/x']) {
      expect(parseStreamPath(path), path).toBeNull();
    }
  });
});

describe('parseExecOptions', () => {
  it('reads the repeated command and the stream flags as kubectl sends them', () => {
    const query = new URLSearchParams('command=sh&command=-c&command=exit+3&container=app&stderr=true&stdout=true');
    expect(parseExecOptions(query, 'exec')).toEqual({ container: 'app', command: ['sh', '-c', 'exit 3'], stdin: false, stdout: true, stderr: true, tty: false });
    expect(parseExecOptions(new URLSearchParams('container=app&stdin=true&stdout=true&tty=true'), 'attach')).toEqual({
      container: 'app', command: [], stdin: true, stdout: true, stderr: false, tty: true,
    });
  });

  it('refuses an exec without a command and a request without any stream', () => {
    expect(statusOf(() => parseExecOptions(new URLSearchParams('stdout=true'), 'exec'))).toEqual({ code: 400, message: 'you must specify at least 1 command' });
    expect(statusOf(() => parseExecOptions(new URLSearchParams('command=ls'), 'exec')).message).toBe('you must specify at least 1 of stdin, stdout, stderr');
  });
});

describe('planStream (the pre-flight)', () => {
  it('defaults the only container and names the node', () => {
    expect(planStream(pod({ node: 'n1' }), 'exec', null)).toEqual({ node: 'n1', container: 'app' });
    expect(planStream(pod({ node: 'n1', containers: ['a', 'b'] }), 'attach', 'b')).toEqual({ node: 'n1', container: 'b' });
    expect(planStream(pod({ node: 'n1', containers: ['a', 'b'] }), 'portforward', null)).toEqual({ node: 'n1', container: null });
  });

  it('refuses as Kubernetes does: which container, unknown container, completed pod, no host', () => {
    expect(statusOf(() => planStream(pod({ node: 'n1', containers: ['a', 'b'], init: ['i'] }), 'exec', null))).toEqual({
      code: 400, message: 'a container name must be specified for pod web, choose one of: [a b] or one of the init containers: [i]',
    });
    expect(statusOf(() => planStream(pod({ node: 'n1' }), 'exec', 'nope')).message).toBe('container nope is not valid for pod web');
    expect(statusOf(() => planStream(pod({ node: 'n1', phase: 'Succeeded' }), 'exec', null)).message).toBe('cannot exec into a container in a completed pod; current phase is Succeeded');
    expect(statusOf(() => planStream(pod({ node: 'n1', phase: 'Failed' }), 'attach', null)).message).toBe('cannot attach a container in a completed pod; current phase is Failed');
    expect(statusOf(() => planStream(pod({ node: 'n1', phase: 'Failed' }), 'portforward', null)).message).toBe('unable to forward port because pod is not running. Current status=Failed');
    expect(statusOf(() => planStream(pod({}), 'exec', null))).toEqual({ code: 400, message: 'pod web does not have a host assigned' });
  });
});

describe('spdyRefusal', () => {
  it('says SPDY is not served and which kubectl variable selects it', () => {
    const exec = spdyRefusal('exec', 'SPDY/3.1');
    expect(exec.httpStatus).toBe(400);
    expect(exec.message).toMatch(/over WebSocket \(subprotocol v5\.channel\.k8s\.io\) only, not SPDY/);
    expect(exec.message).toMatch(/KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false/);
    expect(spdyRefusal('portforward', '').message).toMatch(/SPDY\/3\.1\+portforward\.k8s\.io.*no WebSocket subprotocol.*KUBECTL_PORT_FORWARD_WEBSOCKETS=false/);
  });
});

describe('the channel-3 Status', () => {
  it('is Success for 0, NonZeroExitCode with the ExitCode cause otherwise, a plain failure for an error', () => {
    expect(channelStatusOf({ exitCode: 0 })).toEqual({ metadata: {}, status: 'Success' });
    expect(channelStatusOf({ exitCode: 3 })).toEqual({
      metadata: {}, status: 'Failure', message: 'command terminated with non-zero exit code: exit status 3', reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    // kubectl parses the cause as a uint8: a code it could not parse is reported as a failure.
    expect(channelStatusOf({ exitCode: 300 }).reason).toBe('InternalError');
    expect(channelStatusOf({ error: 'boom' })).toMatchObject({ status: 'Failure', message: 'boom' });
  });

  it('reads the agent\'s status frame and reports a malformed one', () => {
    expect(parseStreamStatus(Buffer.from('{"exitCode":7}'))).toEqual({ exitCode: 7 });
    expect(parseStreamStatus(Buffer.from('{"error":"x"}'))).toEqual({ error: 'x' });
    expect(parseStreamStatus(Buffer.from('nope'))).toEqual({ error: 'the node agent sent a malformed exit status' });
  });
});

describe('toApiError (the agent\'s refusals)', () => {
  const where = { node: 'n1', subject: 'kubus.c.node.n1.rpc.stream', pod: 'web' };
  const refused = (reason: string) => toApiError(new StreamRefusedError(where.subject, reason, 'container "app" is not running'), where);
  it('maps each refusal reason to Kubernetes\' code, keeping the agent\'s words', () => {
    expect(refused('podNotFound')).toMatchObject({ httpStatus: 404, message: 'pods "web" not found' });
    expect(refused('notRunning')).toMatchObject({ httpStatus: 400, message: 'container "app" is not running' });
    expect(refused('containerNotFound').httpStatus).toBe(400);
    expect(refused('unsupported').httpStatus).toBe(400);
    expect(refused('forbidden').httpStatus).toBe(403);
    expect(refused('busy').httpStatus).toBe(429);
    expect(refused('somethingNew').httpStatus).toBe(500);
  });

  it('names the node and subject when no agent answers', () => {
    expect(toApiError(new StreamOpenError(where.subject, 'noResponders', 'nobody listens there'), where)).toMatchObject({
      httpStatus: 500, message: 'the agent of node "n1" does not answer on kubus.c.node.n1.rpc.stream: no agent is connected',
    });
    expect(toApiError(new StreamOpenError(where.subject, 'timeout', 'x'), where).message).toMatch(/no answer within 10000 ms/);
    expect(toApiError(new StreamOpenError(where.subject, 'tooManyStreams', 'x'), where).httpStatus).toBe(429);
  });
});
