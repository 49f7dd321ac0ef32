/**
 * Forwarding to the host's resolvers, on loopback sockets with a simulated clock (the timeouts
 * are the clock's, so no test waits for them): a silent upstream is given up after
 * `forwardUpstreamTimeoutMs` and the next one answers; a reply with another id is ignored; TCP
 * queries go over TCP; past `forwardInFlightMax` forwards a query fails at once instead of
 * queueing.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../bus/clock.js';
import { DnsForwardError } from '../../../nodeagent/dns/errors.js';
import { createForwarder } from '../../../nodeagent/dns/forwarder.js';
import { dnsLimits } from '../../../nodeagent/dns/limits.js';

const address = `127.54.${process.pid % 250}.1`;
const sockets: UdpSocket[] = [];
const servers: Server[] = [];

async function udpUpstream(onMessage: (socket: UdpSocket, message: Buffer, remote: { address: string; port: number }) => void): Promise<number> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  socket.on('message', (message, remote) => onMessage(socket, message, remote));
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  return socket.address().port;
}

function reply(message: Buffer, id: number, ip: string): Buffer {
  const query = dnsPacket.decode(message);
  return dnsPacket.encode({ type: 'response', id, questions: query.questions ?? [], answers: [{ type: 'A', name: query.questions?.[0]?.name ?? '', data: ip }] });
}

const query = (id: number): Buffer => dnsPacket.encode({ type: 'query', id, questions: [{ type: 'A', name: 'example.test' }] });

/** Polls a condition the sockets make true (no fixed sleeps), bounded. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

let silentPort = 0;
let goodPort = 0;
let trickyPort = 0;
let tcpPort = 0;
let silentQueries = 0;

beforeAll(async () => {
  silentPort = await udpUpstream(() => { silentQueries++; });
  goodPort = await udpUpstream((socket, message, remote) => socket.send(reply(message, message.readUInt16BE(0), '127.0.0.7'), remote.port, remote.address));
  // First a reply with the wrong id (a spoof or a late answer to another query), then the right one.
  trickyPort = await udpUpstream((socket, message, remote) => {
    socket.send(reply(message, (message.readUInt16BE(0) + 1) & 0xffff, '127.0.0.66'), remote.port, remote.address, () => {
      socket.send(reply(message, message.readUInt16BE(0), '127.0.0.8'), remote.port, remote.address);
    });
  });
  const server = createServer((socket) => {
    socket.once('data', (chunk: Buffer) => {
      const answer = reply(chunk.subarray(2, 2 + chunk.readUInt16BE(0)), chunk.readUInt16BE(2), '127.0.0.9');
      const length = Buffer.alloc(2);
      length.writeUInt16BE(answer.length);
      socket.end(Buffer.concat([length, answer]));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  tcpPort = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
});

const answerOf = (bytes: Buffer): unknown => dnsPacket.decode(bytes).answers?.map((answer) => ('data' in answer ? answer.data : null));

describe('forwarder', () => {
  it('gives up a silent upstream after its timeout and asks the next', async () => {
    const clock = new SimulatedClock();
    const forwarder = createForwarder({ clock, upstreams: () => [{ address, port: silentPort }, { address, port: goodPort }] });
    const before = silentQueries;
    const pending = forwarder.forward(query(1), 'udp');
    await until(() => silentQueries > before && clock.pendingCount() === 1, 'the silent upstream to be asked');
    clock.advance(dnsLimits.forwardUpstreamTimeoutMs);
    expect(answerOf(await pending)).toEqual(['127.0.0.7']);
    expect(forwarder.inFlight()).toBe(0);
  });

  it('ignores a reply with another id; forwards TCP queries over TCP', async () => {
    const clock = new SimulatedClock();
    expect(answerOf(await createForwarder({ clock, upstreams: () => [{ address, port: trickyPort }] }).forward(query(2), 'udp'))).toEqual(['127.0.0.8']);
    expect(answerOf(await createForwarder({ clock, upstreams: () => [{ address, port: tcpPort }] }).forward(query(3), 'tcp'))).toEqual(['127.0.0.9']);
  });

  it('fails with DnsForwardError when every upstream timed out, and at once past the in-flight bound', async () => {
    const clock = new SimulatedClock();
    const forwarder = createForwarder({ clock, upstreams: () => [{ address, port: silentPort }] });
    const held = Array.from({ length: dnsLimits.forwardInFlightMax }, (_, i) => forwarder.forward(query(100 + i), 'udp').then(() => null, (error: unknown) => error));
    expect(forwarder.inFlight()).toBe(dnsLimits.forwardInFlightMax);
    await expect(forwarder.forward(query(99), 'udp')).rejects.toThrow(/forwards already in flight/);
    await until(() => clock.pendingCount() === dnsLimits.forwardInFlightMax, 'every forward to be sent');
    clock.advance(dnsLimits.forwardUpstreamTimeoutMs);
    const errors = await Promise.all(held);
    expect(errors.every((error) => error instanceof DnsForwardError)).toBe(true);
    expect(forwarder.inFlight()).toBe(0);
    await expect(createForwarder({ clock, upstreams: () => [] }).forward(query(5), 'udp')).rejects.toBeInstanceOf(DnsForwardError);
  });
});
