/**
 * The node's DNS server on real sockets, asked by Node's own resolver (node:dns, c-ares) as a
 * process-runtime pod would ask it through KUBUS_DNS_SERVER: cluster names from a catalog (a fake
 * holding Services and EndpointSlices), NXDOMAIN / NODATA / SERVFAIL as the resolver reports
 * them, a large answer truncated over UDP and fetched again over TCP, and names outside the
 * cluster domain forwarded to a fake upstream server on another loopback address (never the
 * internet). A second server on the taken address fails with a typed error naming the flag.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { createServer, type Server } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock, SystemClock } from '../../../bus/clock.js';
import { defaultServicesConfig } from '../../../nodeagent/agent.js';
import { ClusterDnsBindError, dnsLimits, startClusterDns, type DnsServer } from '../../../nodeagent/dns/index.js';
import { waitUntil } from '../../support/wait.js';
import { silentLogger } from '../kubelet/harness.js';
import { FakeCatalog, service, slice } from './fake-catalog.js';

// Addresses of this file alone (Linux delivers all of 127/8 locally): the server and the fake upstream.
const net = `127.53.${process.pid % 250}`;
const serverAddress = `${net}.1`;
const upstreamAddress = `${net}.2`;
const many = Array.from({ length: 60 }, (_, i) => ({ ip: `127.64.7.${i + 1}` }));

/** A fake upstream resolver on UDP and TCP: `*.example.test` → 127.0.0.77, `many.example.test` → 60 addresses. */
async function startUpstream(): Promise<{ port: number; queries: string[]; stop(): Promise<void> }> {
  const queries: string[] = [];
  const answer = (message: Buffer): Buffer => {
    const query = dnsPacket.decode(message);
    const question = query.questions?.[0];
    const name = question?.name ?? '';
    queries.push(name);
    const ips = name === 'many.example.test' ? many.map((m) => m.ip) : name.endsWith('example.test') ? ['127.0.0.77'] : [];
    return dnsPacket.encode({
      type: 'response', id: query.id ?? 0, flags: dnsPacket.RECURSION_AVAILABLE | (ips.length === 0 ? 3 : 0),
      questions: query.questions ?? [], answers: ips.map((ip) => ({ type: 'A' as const, name, ttl: 60, data: ip })),
    });
  };
  const udp: UdpSocket = createSocket('udp4');
  udp.on('message', (message, remote) => {
    let reply = answer(message);
    if (reply.length > 512) reply = dnsPacket.encode({ ...dnsPacket.decode(reply), answers: [], flags: dnsPacket.TRUNCATED_RESPONSE | dnsPacket.RECURSION_AVAILABLE });
    udp.send(reply, remote.port, remote.address);
  });
  await new Promise<void>((resolve) => udp.bind(0, upstreamAddress, resolve));
  const port = udp.address().port;
  const tcp: Server = createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      const reply = answer(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      const length = Buffer.alloc(2);
      length.writeUInt16BE(reply.length);
      socket.end(Buffer.concat([length, reply]));
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => tcp.listen(port, upstreamAddress, resolve));
  return {
    port, queries,
    stop: async () => {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
      await new Promise<void>((resolve) => udp.close(() => resolve()));
    },
  };
}

const catalog = new FakeCatalog()
  .addService(service('shop', 'web', { clusterIP: '127.96.0.10', clusterIPs: ['127.96.0.10'], ports: [{ name: 'http', port: 80 }] }))
  .addService(service('shop', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }), [slice('db', [{ ip: '127.64.1.5', hostname: 'db-0' }], [{ name: 'pg', port: 5433 }])])
  .addService(service('shop', 'big', { clusterIP: 'None', ports: [{ name: 'x', port: 1 }] }), [slice('big', many, [{ name: 'x', port: 1 }])]);

let upstream: Awaited<ReturnType<typeof startUpstream>>;
let server: DnsServer;
let resolver: dns.Resolver;
const ctx = { nodeName: 'n1', clock: new SystemClock(), logger: silentLogger() };
const config = defaultServicesConfig('127.32.0.1', { clusterDns: { address: serverAddress, port: 0 } });

beforeAll(async () => {
  upstream = await startUpstream();
  const started = await startClusterDns(ctx, { catalog, config, upstreams: [{ address: upstreamAddress, port: upstream.port }] });
  if (started === null) throw new Error('the DNS server did not start');
  server = started;
  resolver = new dns.Resolver({ timeout: 3_000, tries: 2 });
  resolver.setServers([`${server.address}:${server.port}`]);
});

afterAll(async () => {
  await server?.stop();
  await upstream?.stop();
});

const codeOf = (promise: Promise<unknown>): Promise<string> => promise.then(() => 'answered', (error: NodeJS.ErrnoException) => error.code ?? String(error));

describe('cluster DNS on real sockets', () => {
  it('resolves a Service, a headless endpoint, a pod and SRV of a named port', async () => {
    expect(server.port).toBeGreaterThan(0);
    expect(await resolver.resolve4('web.shop.svc.cluster.local')).toEqual(['127.96.0.10']);
    expect(await resolver.resolve4('db-0.db.shop.svc.cluster.local')).toEqual(['127.64.1.5']);
    expect(await resolver.resolve4('127-64-3-4.shop.pod.cluster.local')).toEqual(['127.64.3.4']);
    expect(await resolver.resolveSrv('_pg._tcp.db.shop.svc.cluster.local')).toEqual([{ name: 'db-0.db.shop.svc.cluster.local', port: 5433, priority: 0, weight: 100 }]);
  });

  it('reports what a real server reports: NXDOMAIN, NODATA, SERVFAIL before the catalog synced', async () => {
    expect(await codeOf(resolver.resolve4('nope.shop.svc.cluster.local'))).toBe('ENOTFOUND');
    expect(await codeOf(resolver.resolve6('web.shop.svc.cluster.local'))).toBe('ENODATA');
    catalog.setSynced(false);
    try {
      expect(await codeOf(resolver.resolve4('web.shop.svc.cluster.local'))).toBe('ESERVFAIL');
    } finally {
      catalog.setSynced(true);
    }
  });

  it('sends a large answer truncated over UDP; the resolver asks again over TCP and gets it whole', async () => {
    expect((await resolver.resolve4('big.shop.svc.cluster.local')).sort()).toEqual(many.map((m) => m.ip).sort());
  });

  it('forwards names outside the cluster domain to the upstream, over UDP and (for a truncated answer) TCP', async () => {
    expect(await resolver.resolve4('www.example.test')).toEqual(['127.0.0.77']);
    expect(await resolver.resolve4('many.example.test')).toHaveLength(60);
    expect(await codeOf(resolver.resolve4('unknown.invalid'))).toBe('ENOTFOUND');
    expect(upstream.queries).toContain('www.example.test');
    // Cluster names never reach the upstream.
    expect(upstream.queries.some((name) => name.endsWith('cluster.local'))).toBe(false);
  });

  it('stops with a forward in flight without answering on the closed socket (the late answer is dropped, nothing throws)', async () => {
    const clock = new SimulatedClock();
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, upstreamAddress, resolve));
    let asked = false;
    silent.on('message', () => (asked = true));
    const second = await startClusterDns({ ...ctx, clock }, {
      catalog, config: { ...config, clusterDns: { address: serverAddress, port: 0 } }, upstreams: [{ address: upstreamAddress, port: silent.address().port }],
    });
    const client = createSocket('udp4');
    try {
      client.send(dnsPacket.encode({ type: 'query', id: 7, questions: [{ type: 'A', name: 'late.example.test' }] }), second?.port ?? 0, serverAddress);
      await waitUntil('the query forwarded to the silent upstream', async () => asked && clock.pendingCount() === 1, { timeoutMs: 5_000, intervalMs: 10 });
      await second?.stop();
      clock.advance(dnsLimits.forwardUpstreamTimeoutMs);
      await new Promise((resolve) => setImmediate(resolve));
      expect(clock.pendingCount()).toBe(0);
    } finally {
      client.close();
      silent.close();
    }
  });

  it('fails with a typed error naming the address and --cluster-dns when the port is taken', async () => {
    const error = await startClusterDns(ctx, { catalog, config: { ...config, clusterDns: { address: server.address, port: server.port } }, upstreams: [] })
      .then(() => null, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(ClusterDnsBindError);
    expect(error).toMatchObject({ code: 'clusterDnsBind', address: serverAddress, port: server.port, problem: 'inUse' });
    expect((error as Error).message).toContain('--cluster-dns');
    // The running server still answers.
    expect(await resolver.resolve4('web.shop.svc.cluster.local')).toEqual(['127.96.0.10']);
  });
});
