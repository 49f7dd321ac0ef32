/**
 * The API side of `kubectl logs` as a stream, against a fake node rpc (no NATS, no agent): chunks
 * are asked for one after another with the cursor of the last reply, a non-follow read stops once
 * caught up, a follow read long-polls until the agent says the instance ended, limitBytes cuts the
 * stream, an agent error before the first byte is Kubernetes' 400 and an unreachable agent a 500
 * naming the node, and an unbound pod answers an empty log as Kubernetes does.
 */
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { NoRespondersError, createJsonLogger } from '../../bus/index.js';
import { servePodLogs } from '../../actors/apiserver/http/pod-logs.js';
import type { NodeRpc } from '../../actors/apiserver/http/node-rpc.js';
import type { RequestContext } from '../../actors/apiserver/http/context.js';
import type { LogsReply, LogsRequest } from '../../nodeagent/rpc/protocol.js';
import type { KubeObject } from '../../actors/apiserver/types.js';

class FakeResponse extends Writable {
  status = 0;
  body = '';
  writeHead(status: number): this {
    this.status = status;
    return this;
  }
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.body += chunk.toString();
    done();
  }
}

const pod = (nodeName?: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u1' },
  spec: { ...(nodeName !== undefined ? { nodeName } : {}), containers: [{ name: 'app', image: 'x' }] },
} as Pod as unknown as KubeObject);

const reply = (text: string, options: Partial<LogsReply> = {}): LogsReply => ({
  chunk: Buffer.from(text), cursor: { attempt: 0, inode: 1, offset: text.length, midLine: false }, eof: false, caughtUp: false, error: null, ...options,
});

function context(query: string, rpc: NodeRpc | undefined): { ctx: RequestContext; res: FakeResponse } {
  const res = new FakeResponse();
  const server = { wallClock: () => new Date('2026-12-03T05:00:00Z'), logger: createJsonLogger({ level: 'error' }), ...(rpc !== undefined ? { nodeRpc: rpc } : {}) };
  return { ctx: { server, res, query: new URLSearchParams(query) } as unknown as RequestContext, res };
}

function fakeRpc(replies: (LogsReply | Error)[]): NodeRpc & { requests: LogsRequest[] } {
  const requests: LogsRequest[] = [];
  return {
    requests,
    subjectFor: (node) => `kubus.test.node.${node}.rpc`,
    logs: async (_node, request) => {
      requests.push(request);
      const next = replies.shift();
      if (next === undefined) throw new Error('more requests than replies');
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

describe('pod log stream', () => {
  it('pulls chunks with the last cursor until caught up (no follow)', async () => {
    const rpc = fakeRpc([reply('one\n'), reply('two\n', { caughtUp: true })]);
    const { ctx, res } = context('container=app&tailLines=2', rpc);
    await servePodLogs(ctx, pod('n1'));
    expect(res.status).toBe(200);
    expect(res.body).toBe('one\ntwo\n');
    expect(rpc.requests.map((r) => [r.cursor?.offset ?? null, r.waitMs, r.tailLines])).toEqual([[null, 0, 2], [4, 0, 2]]);
  });

  it('follows with long polls until the instance ended', async () => {
    const rpc = fakeRpc([reply('a\n', { caughtUp: true }), reply('', { caughtUp: true }), reply('b\n', { caughtUp: true, eof: true })]);
    const { ctx, res } = context('follow=true', rpc);
    await servePodLogs(ctx, pod('n1'));
    expect(res.body).toBe('a\nb\n');
    expect(rpc.requests.map((r) => r.waitMs)).toEqual([0, 10_000, 10_000]);
  });

  it('cuts the stream at limitBytes and asks for no more than is left', async () => {
    const rpc = fakeRpc([reply('hello\n'), reply('world\n')]);
    const { ctx, res } = context('limitBytes=8', rpc);
    await servePodLogs(ctx, pod('n1'));
    expect(res.body).toBe('hello\nwo');
    expect(rpc.requests.map((r) => r.maxBytes)).toEqual([8, 2]);
  });

  it('answers the agent\'s error as a 400 Status, an unreachable agent as a 500 naming the node', async () => {
    const failing = fakeRpc([reply('', { cursor: null, error: { code: 'previousNotFound', message: 'previous terminated container "app" in pod "web" not found' } })]);
    await expect(servePodLogs(context('previous=true', failing).ctx, pod('n1'))).rejects.toMatchObject({ httpStatus: 400, message: 'previous terminated container "app" in pod "web" not found' });
    const silent = fakeRpc([new NoRespondersError('kubus.test.node.n1.rpc')]);
    await expect(servePodLogs(context('', silent).ctx, pod('n1'))).rejects.toMatchObject({
      httpStatus: 500, message: 'the agent of node "n1" does not answer on kubus.test.node.n1.rpc: no agent is connected',
    });
  });

  it('answers an unbound pod with an empty log, and 503 when the server has no way to agents', async () => {
    const { ctx, res } = context('', fakeRpc([]));
    await servePodLogs(ctx, pod());
    expect([res.status, res.body]).toEqual([200, '']);
    await expect(servePodLogs(context('', undefined).ctx, pod('n1'))).rejects.toMatchObject({ httpStatus: 503 });
  });
});
