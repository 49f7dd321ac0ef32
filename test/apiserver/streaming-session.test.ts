/**
 * The streaming front end to end in one process (actors/apiserver/http/streaming/): a plain HTTP
 * server with the front on its 'upgrade' event, a fake pod store and authorizer, and a fake agent
 * behind an in-memory duplex, driven by a bare WebSocket client (streaming-ws-client.ts) that
 * sends and sees the bytes kubectl does.
 *
 * exec: 101 with the echoed v5 subprotocol; `create pods/exec` authorized; stdin, resize and the
 * stdin-EOF close message reach the agent as channel frames; stdout/stderr come back as channel
 * messages; the agent's exit code 3 becomes the NonZeroExitCode Status on channel 3, then close
 * 1000; an agent refusal after the 101 is a Failure Status on channel 3. Pre-flight refusals
 * (forbidden, missing pod, SPDY) are plain HTTP Statuses. port-forward: the subprotocol kubectl
 * needs despite `ws`; SPDY frames split into tiny messages; SYN_REPLY bytes; PING echoed; data both
 * ways on one agent stream per data stream with the port from the headers; the agent's end closes
 * the data stream then the error stream; an agent failure is text on the error stream.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { constants, createDeflate, type Deflate } from 'node:zlib';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock, createJsonLogger } from '../../bus/index.js';
import { ChannelFrameDecoder, encodeChannelFrame, type ChannelFrame, type StreamOpenHeader } from '../../nodeagent/rpc/stream-protocol.js';
import { Registry } from 'prom-client';
import { defineApiMetrics } from '../../bus/telemetry/index.js';
import { createStreamingFront, upgradeObserver, encodeDataFrame, spdyDictionary, SpdyFrameReader, type NodeStreams, type SpdyFrame, type StreamingFront } from '../../actors/apiserver/http/streaming/index.js';
import type { AuthorizationRequest } from '../../actors/apiserver/http/admission.js';
import type { ObjectStorage } from '../../actors/apiserver/http/objects-port.js';
import { apiErrors } from '../../actors/apiserver/status.js';
import { waitUntil } from '../support/wait.js';
import { binaryMessages, closeCode, rawUpgrade, type RawWebSocket } from './streaming-ws-client.js';

/** The agent's end of one stream: frames it received, and a way to answer. */
interface FakeAgentStream {
  readonly header: StreamOpenHeader;
  /** The member's end, to see whether the member stopped reading. */
  readonly member: Duplex;
  readonly frames: ChannelFrame[];
  readonly side: Duplex;
  ended: boolean;
}

function duplexPair(): [Duplex, Duplex] {
  const toAgent = new PassThrough();
  const toMember = new PassThrough();
  return [Duplex.from({ readable: toMember, writable: toAgent }), Duplex.from({ readable: toAgent, writable: toMember })];
}

const pods = new Map<string, Pod>([
  ['web', { metadata: { name: 'web', namespace: 'default', uid: 'uid-web' }, spec: { nodeName: 'n1', containers: [{ name: 'app' }] }, status: { phase: 'Running' } }],
  ['done', { metadata: { name: 'done', namespace: 'default', uid: 'uid-done' }, spec: { nodeName: 'n1', containers: [{ name: 'app' }] }, status: { phase: 'Succeeded' } }],
]);

describe('the streaming front (exec, attach, port-forward over WebSocket)', () => {
  let server: Server;
  let front: StreamingFront;
  let port: number;
  const authorized: AuthorizationRequest[] = [];
  const agentStreams: FakeAgentStream[] = [];
  let refuseNext: Error | null = null;
  /** Simulated: the liveness checks run only when a test advances it. */
  const clock = new SimulatedClock();
  const registry = new Registry();
  const observer = upgradeObserver(defineApiMetrics(registry));

  const nodeStreams: NodeStreams = {
    subjectFor: (node) => `kubus.test.node.${node}.rpc.stream`,
    async open(_node, header) {
      if (refuseNext !== null) {
        const error = refuseNext;
        refuseNext = null;
        throw error;
      }
      const [member, agent] = duplexPair();
      const stream: FakeAgentStream = { header, member, frames: [], side: agent, ended: false };
      const decoder = new ChannelFrameDecoder();
      agent.on('data', (chunk: Buffer) => stream.frames.push(...decoder.push(chunk)));
      agent.on('end', () => (stream.ended = true));
      // The member destroys its end when kubectl goes away; the fake's end then reports an abort.
      agent.on('error', () => undefined);
      agentStreams.push(stream);
      return member;
    },
    close: () => undefined,
  };

  beforeAll(async () => {
    const objects = {
      get: async (_info: unknown, _namespace: string | null, name: string) => {
        const pod = pods.get(name);
        if (pod === undefined) throw apiErrors.notFound('pods', '', name);
        return pod;
      },
    } as unknown as ObjectStorage;
    front = createStreamingFront({
      objects, logger: createJsonLogger({ level: 'error' }), clock, retryAfterSeconds: 1, nodeStreams, onOutcome: observer.outcome,
      authorizer: {
        authorize: async (request) => {
          if (request.user.name === 'eve') throw apiErrors.forbidden(`User "eve" cannot create resource "pods/${request.subresource ?? ''}"`);
          authorized.push(request);
        },
      },
      authenticate: async (req) => ({ name: String(req.headers['x-test-user'] ?? 'alice'), uid: '', groups: [] }),
      seat: async () => () => undefined,
      admit: () => () => undefined,
    });
    server = createServer((_req, res) => res.writeHead(404).end());
    server.on('upgrade', (req, socket, head) => {
      observer.observe(req, socket);
      front.handleUpgrade(req, socket, head);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    front.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const execPath = '/api/v1/namespaces/default/pods/web/exec?command=sh&command=-c&command=exit+3&container=app&stderr=true&stdin=true&stdout=true';

  async function open(path: string, protocol: string): Promise<RawWebSocket> {
    const result = await rawUpgrade({ port, path, protocol });
    if (!('ws' in result)) throw new Error(`no upgrade: ${result.status} ${result.body}`);
    return result.ws;
  }

  it('exec: stdin, resize and EOF reach the agent; output and the exit code come back; close 1000', async () => {
    const ws = await open(execPath, 'v5.channel.k8s.io');
    expect(ws.protocol).toBe('v5.channel.k8s.io');
    const agent = await waitUntil('the agent stream', () => agentStreams.find((s) => s.header.name === 'web' && s.header.op === 'exec'), { timeoutMs: 5_000 });
    expect(agent.header).toEqual({
      v: 1, op: 'exec', namespace: 'default', name: 'web', uid: 'uid-web', container: 'app', command: ['sh', '-c', 'exit 3'], stdin: true, stdout: true, stderr: true, tty: false,
    });
    expect(authorized.at(-1)).toMatchObject({ verb: 'create', subresource: 'exec', namespace: 'default', name: 'web' });
    ws.send(Buffer.from('\x04{"Width":100,"Height":30}\n'));
    ws.send(Buffer.from('\x00stdin data\n'));
    ws.send(Buffer.from([0xff, 0x00]));
    await waitUntil('three frames at the agent', () => agent.frames.length >= 3, { timeoutMs: 5_000 });
    expect(agent.frames.map((f) => [f.channel, f.payload.toString()])).toEqual([[4, '{"Width":100,"Height":30}\n'], [0, 'stdin data\n'], [255, '\x00']]);
    agent.side.write(encodeChannelFrame(1, Buffer.from('out')));
    agent.side.write(encodeChannelFrame(2, Buffer.from('err')));
    agent.side.write(encodeChannelFrame(3, Buffer.from('{"exitCode":3}')));
    agent.side.end();
    await waitUntil('the close', () => closeCode(ws), { timeoutMs: 5_000 });
    const messages = binaryMessages(ws);
    expect(messages.slice(0, 2).map((m) => m.toString('latin1'))).toEqual(['\x01out', '\x02err']);
    expect(messages[2]?.[0]).toBe(3);
    expect(JSON.parse(messages[2]!.subarray(1).toString())).toEqual({
      metadata: {}, status: 'Failure', message: 'command terminated with non-zero exit code: exit status 3', reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    expect(closeCode(ws)).toBe(1000);
    await waitUntil('the session slot back', () => front.sessionCount() === 0, { timeoutMs: 5_000 });
  });

  it('exec: a client that stops reading stops the member reading from the agent (no unbounded buffer), and the rest flows once it reads again', async () => {
    const ws = await open(execPath, 'v5.channel.k8s.io');
    const agent = await waitUntil('the agent stream', () => agentStreams.find((s) => s.header.op === 'exec' && s.frames.length === 0 && !s.side.destroyed && !s.ended), { timeoutMs: 5_000 });
    ws.socket.pause();
    const chunk = Buffer.alloc(32 * 1024, 0x78);
    const bound = 64 * 1024 * 1024;
    let written = 0;
    // The agent writes as a well-behaved producer: on "full" it waits for 'drain'.
    const produce = (async () => {
      while (written < bound && !agent.member.isPaused()) {
        written += chunk.length;
        if (!agent.side.write(encodeChannelFrame(1, chunk))) await new Promise((resolve) => agent.side.once('drain', resolve));
      }
    })();
    await waitUntil('the member pausing its agent stream', () => agent.member.isPaused(), { timeoutMs: 20_000, intervalMs: 10 });
    expect(written).toBeLessThan(bound);
    ws.socket.resume();
    await waitUntil('the member reading again', () => !agent.member.isPaused(), { timeoutMs: 20_000, intervalMs: 10 });
    await produce;
    agent.side.write(encodeChannelFrame(3, Buffer.from('{"exitCode":0}')));
    agent.side.end();
    await waitUntil('the close', () => closeCode(ws), { timeoutMs: 20_000 });
    const stdout = binaryMessages(ws).filter((m) => m[0] === 1).reduce((sum, m) => sum + m.length - 1, 0);
    expect(stdout).toBe(written);
  }, 60_000);

  it('exec: an agent refusal after the 101 is a Failure Status on channel 3, then close 1000', async () => {
    refuseNext = apiErrors.badRequest('container "app" is not running');
    const ws = await open(execPath, 'v5.channel.k8s.io');
    await waitUntil('the close', () => closeCode(ws), { timeoutMs: 5_000 });
    const status = binaryMessages(ws)[0]!;
    expect(status[0]).toBe(3);
    expect(JSON.parse(status.subarray(1).toString())).toMatchObject({ status: 'Failure', message: 'container "app" is not running', code: 400 });
    expect(closeCode(ws)).toBe(1000);
  });

  it('ends a session whose client went silent (no message, no pong to our pings), and its agent stream', async () => {
    const ws = await open(execPath, 'v5.channel.k8s.io');
    const agent = await waitUntil('the agent stream', () => agentStreams.find((s) => s.header.op === 'exec' && !s.ended && s.frames.length === 0 && !s.side.destroyed), { timeoutMs: 5_000 });
    // This bare client answers no ping: after 60 s of silence (checked every 15 s) the member hangs up.
    clock.advance(45_000);
    expect(ws.closed()).toBe(false);
    clock.advance(30_000);
    await waitUntil('the connection dropped', () => ws.closed(), { timeoutMs: 5_000 });
    expect(ws.messages.filter((m) => m.opcode === 9).length).toBeGreaterThanOrEqual(3);
    await waitUntil('the agent stream ended', () => agent.side.destroyed, { timeoutMs: 5_000 });
    await waitUntil('the session slot back', () => front.sessionCount() === 0, { timeoutMs: 5_000 });
  });

  it('refuses before the 101 what the pre-flight refuses, as a Status kubectl prints', async () => {
    const allowed = await rawUpgrade({ port, path: execPath, protocol: 'v5.channel.k8s.io' });
    expect(allowed.status).toBe(101); // alice may
    if ('ws' in allowed) allowed.ws.close();
    const eve = await new Promise<{ status: number; body: string }>((resolve) => {
      void import('node:http').then(({ request }) => {
        const req = request({ host: '127.0.0.1', port, path: execPath, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Protocol': 'v5.channel.k8s.io', 'X-Test-User': 'eve' } });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.end();
      });
    });
    expect(eve.status).toBe(403);
    expect(JSON.parse(eve.body)).toMatchObject({ kind: 'Status', reason: 'Forbidden', message: 'User "eve" cannot create resource "pods/exec"' });
    const missing = await rawUpgrade({ port, path: '/api/v1/namespaces/default/pods/nope/exec?command=ls&stdout=true', protocol: 'v5.channel.k8s.io' });
    expect(missing).toMatchObject({ status: 404 });
    const completed = await rawUpgrade({ port, path: '/api/v1/namespaces/default/pods/done/attach?stdout=true', protocol: 'v5.channel.k8s.io' });
    expect(completed.status).toBe(400);
    const spdy = await rawUpgrade({ port, path: execPath, method: 'POST', upgrade: 'SPDY/3.1' });
    expect(spdy.status).toBe(400);
    expect('body' in spdy ? spdy.body : '').toMatch(/not SPDY.*KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false/);
    const v4 = await rawUpgrade({ port, path: execPath, protocol: 'v4.channel.k8s.io' });
    expect(v4.status).toBe(400);
  });

  it('port-forward: SPDY in tiny messages, exact SYN_REPLYs, PING echoed, data both ways, FINs in the kubelet\'s order', async () => {
    const ws = await open('/api/v1/namespaces/default/pods/web/portforward', 'SPDY/3.1+portforward.k8s.io');
    expect(ws.protocol).toBe('SPDY/3.1+portforward.k8s.io');
    const deflater = createDeflate({ dictionary: spdyDictionary });
    const sendSplit = (bytes: Buffer): void => {
      for (let offset = 0, size = 2; offset < bytes.length; offset += size, size = size === 2 ? 4 : 2) ws.send(bytes.subarray(offset, offset + size));
    };
    sendSplit(await synStream(deflater, 1, { streamtype: 'error', port: '8080', requestid: '0' }));
    sendSplit(encodeDataFrame(1, Buffer.alloc(0), true));
    sendSplit(await synStream(deflater, 3, { streamtype: 'data', port: '8080', requestid: '0' }));
    const ping = Buffer.from([0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01]);
    sendSplit(ping);
    sendSplit(encodeDataFrame(3, Buffer.from('GET / HTTP/1.0\r\n\r\n'), false));
    const agent = await waitUntil('the agent stream', () => agentStreams.find((s) => s.header.op === 'portforward'), { timeoutMs: 5_000 });
    expect(agent.header).toEqual({ v: 1, op: 'portforward', namespace: 'default', name: 'web', uid: 'uid-web', port: 8080 });
    await waitUntil('the request at the agent', () => agent.frames.length >= 1, { timeoutMs: 5_000 });
    expect(agent.frames.map((f) => [f.channel, f.payload.toString()])).toEqual([[0, 'GET / HTTP/1.0\r\n\r\n']]);
    agent.side.write(encodeChannelFrame(1, Buffer.from('HTTP/1.0 200 OK\r\n\r\nhi')));
    agent.side.end();
    const frames = (): SpdyFrame[] => new SpdyFrameReader(1 << 20).push(Buffer.concat(binaryMessages(ws)));
    await waitUntil('the error stream FIN', () => frames().some((f) => f.type === 'data' && f.streamId === 1 && f.fin), { timeoutMs: 5_000 });
    const bytes = Buffer.concat(binaryMessages(ws));
    expect(bytes.subarray(0, 32).toString('hex')).toBe('80030002000000180000000178bbe3c6a7c2000400fbff00000000000000ffff');
    expect(bytes.subarray(32, 58).toString('hex')).toBe('800300020000001200000003000400fbff00000000000000ffff');
    expect(bytes.subarray(58, 70)).toEqual(ping);
    const data = frames().filter((f): f is Extract<SpdyFrame, { type: 'data' }> => f.type === 'data');
    expect(data.map((f) => [f.streamId, f.data.toString(), f.fin])).toEqual([[3, 'HTTP/1.0 200 OK\r\n\r\nhi', false], [3, '', true], [1, '', true]]);
    ws.close();
    deflater.close();
  });

  it('port-forward: an agent failure is text on the pair\'s error stream', async () => {
    const ws = await open('/api/v1/namespaces/default/pods/web/portforward', 'SPDY/3.1+portforward.k8s.io');
    const deflater = createDeflate({ dictionary: spdyDictionary });
    refuseNext = apiErrors.internal('the agent of node "n1" does not answer on kubus.test.node.n1.rpc.stream: no agent is connected');
    ws.send(await synStream(deflater, 1, { streamtype: 'error', port: '9', requestid: '0' }));
    ws.send(await synStream(deflater, 3, { streamtype: 'data', port: '9', requestid: '0' }));
    const data = (): Extract<SpdyFrame, { type: 'data' }>[] => new SpdyFrameReader(1 << 20).push(Buffer.concat(binaryMessages(ws))).filter((f): f is Extract<SpdyFrame, { type: 'data' }> => f.type === 'data');
    await waitUntil('the error text and the FINs', () => data().length >= 3, { timeoutMs: 5_000 });
    expect(data().map((f) => [f.streamId, f.data.toString(), f.fin])).toEqual([
      [1, 'error forwarding port 9 to pod default/web, uid uid-web: the agent of node "n1" does not answer on kubus.test.node.n1.rpc.stream: no agent is connected', false],
      [3, '', true],
      [1, '', true],
    ]);
    ws.close();
    deflater.close();
    await waitUntil('every session over', () => front.sessionCount() === 0, { timeoutMs: 5_000 });
  });

  it('counts every upgrade in the API metrics as CONNECT with its code, long-running while open', async () => {
    await waitUntil('every connection closed', async () => {
      const text = await registry.metrics();
      return /apiserver_longrunning_requests\{[^}]*verb="CONNECT"[^}]*\} [1-9]/.test(text) ? null : text;
    }, { timeoutMs: 10_000 });
    const text = await registry.metrics();
    const count = (subresource: string, code: string): number => Number(new RegExp(`apiserver_request_total\\{verb="CONNECT",group="",version="v1",resource="pods",subresource="${subresource}",scope="resource",code="${code}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    expect(count('exec', '101')).toBeGreaterThanOrEqual(3);
    expect(count('exec', '403')).toBe(1);
    expect(count('exec', '400')).toBeGreaterThanOrEqual(2);
    expect(count('portforward', '101')).toBe(2);
  });
});

async function synStream(deflater: Deflate, streamId: number, headers: Record<string, string>): Promise<Buffer> {
  const parts: Buffer[] = [u32(Object.keys(headers).length)];
  for (const [name, value] of Object.entries(headers)) parts.push(u32(name.length), Buffer.from(name), u32(value.length), Buffer.from(value));
  const compressed = await new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    deflater.on('data', onData);
    deflater.write(Buffer.concat(parts));
    deflater.flush(constants.Z_SYNC_FLUSH, () => {
      deflater.off('data', onData);
      resolve(Buffer.concat(chunks));
    });
  });
  const payload = Buffer.concat([u32(streamId), u32(0), Buffer.from([0, 0]), compressed]);
  const head = Buffer.from([0x80, 0x03, 0x00, 0x01, 0x00, payload.length >> 16, (payload.length >> 8) & 0xff, payload.length & 0xff]);
  return Buffer.concat([head, payload]);
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value, 0);
  return out;
}
