/**
 * The `local` provider carries traffic: a LoadBalancer Service's address from the pool answers
 * on each Service port (TCP and UDP) with the replies of the nodes' NodePorts, round-robin over
 * the nodes; a node that refuses is skipped for the next; a second ensure changes nothing; a new
 * provider (a restart, a new leader) gives the Service the address its status names; deleting
 * frees the address and the port refuses. "Nodes" here are TCP/UDP servers on per-node loopback
 * addresses (127.33.6.x, this suite's own) at one shared nodePort, as agents serve NodePorts.
 */
import { createSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock, SystemClock, createJsonLogger, freePort } from '../../bus/index.js';
import { CloudProviderError, type CloudProvider, type LoadBalancer } from '../../actors/cloud/index.js';
import { UdpForwarder, createLocalProvider, localLimits } from '../../actors/cloud/providers/index.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ask } from './tcp-ask.js';

const nodeIps = ['127.33.6.1', '127.33.6.2'];
const options = { timeoutMs: 5_000 };
const logger = createJsonLogger({ level: 'error' });
let nodePort = 0;
let servers: Server[] = [];
let dir = '';
let configFile = '';

function node(name: string, ip: string): Node {
  return { metadata: { name }, status: { addresses: [{ type: 'InternalIP', address: ip }] } };
}
const nodes = [node('node-a', nodeIps[0] as string), node('node-b', nodeIps[1] as string)];

function service(name: string, ports: { port: number; protocol?: string }[], extra: Partial<Service> = {}): Service {
  return {
    metadata: { namespace: 'default', name, uid: `uid-${name}` },
    spec: { type: 'LoadBalancer', ports: ports.map((port) => ({ ...port, nodePort })), ...extra.spec },
    ...(extra.status !== undefined ? { status: extra.status } : {}),
  };
}

function askUdp(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.on('message', (reply) => {
      socket.close();
      resolve(reply.toString());
    });
    socket.send('ping', port, host);
  });
}

async function startNodeServer(ip: string): Promise<Server> {
  const server = createServer((socket) => socket.end(`hello from ${ip}`));
  await new Promise<void>((resolve) => server.listen({ host: ip, port: nodePort }, resolve));
  return server;
}

let provider: CloudProvider;
let balancer: LoadBalancer;

beforeAll(async () => {
  nodePort = await freePort(nodeIps[0]);
  servers = await Promise.all(nodeIps.map(startNodeServer));
  dir = mkdtempSync(join(tmpdir(), 'kubus-local-lb-'));
  configFile = join(dir, 'cloud.yaml');
  writeFileSync(configFile, 'pool: 127.98.6.0/29\n');
});

afterEach(async () => {
  await provider?.stop();
});

afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<void> {
  provider = await createLocalProvider({ configFile, clusterName: 'kubus', clock: new SystemClock(), logger });
  balancer = provider.loadBalancer() as LoadBalancer;
}

describe('local load balancer', () => {
  it('answers on its pool address with the replies of every node, round-robin', async () => {
    await start();
    const port = await freePort('127.98.6.1');
    const svc = service('web', [{ port }]);
    const ingress = await balancer.ensureLoadBalancer('kubus', svc, nodes, options);
    const ip = ingress[0]?.ip as string;
    expect(ip).toMatch(/^127\.98\.6\.[1-6]$/);
    const replies = new Set<string>();
    for (let i = 0; i < 4; i++) replies.add(await ask(ip, port));
    expect(replies).toEqual(new Set(nodeIps.map((n) => `hello from ${n}`)));

    // A second ensure is a no-op: same address, still serving.
    expect(await balancer.ensureLoadBalancer('kubus', svc, nodes, options)).toEqual(ingress);
    expect(await balancer.getLoadBalancer('kubus', svc, options)).toEqual({ exists: true, ingress });
    expect(await ask(ip, port)).toMatch(/^hello from/);

    await balancer.ensureLoadBalancerDeleted('kubus', svc, options);
    expect(await ask(ip, port)).toBe('ECONNREFUSED');
    expect(await balancer.getLoadBalancer('kubus', svc, options)).toEqual({ exists: false, ingress: [] });
    await balancer.ensureLoadBalancerDeleted('kubus', svc, options); // nothing left: still fine
  });

  it('carries the reply to a client that half-closes after its request', async () => {
    await start();
    const replyOnEnd = createServer({ allowHalfOpen: true }, (socket) => {
      let request = '';
      socket.on('data', (chunk) => (request += chunk.toString()));
      socket.on('end', () => socket.end(`got ${request}`));
    });
    const halfPort = await freePort(nodeIps[0]);
    await new Promise<void>((resolve) => replyOnEnd.listen({ host: nodeIps[0], port: halfPort }, resolve));
    try {
      const port = await freePort('127.98.6.1');
      const svc: Service = { ...service('half', [{ port }]), spec: { type: 'LoadBalancer', ports: [{ port, nodePort: halfPort }] } };
      const [{ ip }] = (await balancer.ensureLoadBalancer('kubus', svc, [nodes[0] as Node], options)) as [{ ip: string }];
      const reply = await new Promise<string>((resolve) => {
        const socket = connect({ host: ip, port }, () => socket.end('request'));
        let text = '';
        socket.on('data', (chunk) => (text += chunk.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      });
      expect(reply).toBe('got request');
    } finally {
      await new Promise((resolve) => replyOnEnd.close(resolve));
    }
  });

  it('skips a node that refuses, and serves from the new node set after an update', async () => {
    await start();
    const port = await freePort('127.98.6.1');
    const svc = service('skip', [{ port }]);
    const dead = node('node-0', '127.33.6.9'); // nothing listens there
    const [{ ip }] = (await balancer.ensureLoadBalancer('kubus', svc, [dead, ...nodes], options)) as [{ ip: string }];
    for (let i = 0; i < 6; i++) expect(await ask(ip, port)).toMatch(/^hello from 127\.33\.6\.[12]$/);

    await balancer.updateLoadBalancer('kubus', svc, [nodes[1] as Node], options);
    for (let i = 0; i < 3; i++) expect(await ask(ip, port)).toBe(`hello from ${nodeIps[1]}`);
    await balancer.updateLoadBalancer('kubus', svc, [], options);
    expect(await ask(ip, port)).toBe('ECONNRESET');
  });

  it('forwards UDP datagrams and their replies', async () => {
    await start();
    const echo = createSocket('udp4');
    echo.on('message', (message, from) => echo.send(`udp ${message.toString()}`, from.port, from.address));
    await new Promise<void>((resolve) => echo.bind(nodePort, nodeIps[0], resolve));
    try {
      const port = await freePort('127.98.6.1');
      const svc = service('dns', [{ port, protocol: 'UDP' }]);
      const [{ ip }] = (await balancer.ensureLoadBalancer('kubus', svc, [nodes[0] as Node], options)) as [{ ip: string }];
      expect(await askUdp(ip, port)).toBe('udp ping');
    } finally {
      echo.close();
    }
  });

  it('ends a UDP client\'s session after udpSessionIdleMs of silence (simulated time)', async () => {
    const echo = createSocket('udp4');
    echo.on('message', (message, from) => echo.send(message, from.port, from.address));
    await new Promise<void>((resolve) => echo.bind(nodePort, nodeIps[1], resolve));
    const clock = new SimulatedClock();
    const port = await freePort('127.98.6.7');
    const forwarder = await UdpForwarder.open('127.98.6.7', port, [{ host: nodeIps[1] as string, port: nodePort }], clock);
    try {
      expect(await askUdp('127.98.6.7', port)).toBe('ping');
      expect(forwarder.sessionCount).toBe(1);
      clock.advance(localLimits.udpSessionIdleMs - 1);
      expect(forwarder.sessionCount).toBe(1);
      clock.advance(1);
      expect(forwarder.sessionCount).toBe(0);
      expect(await askUdp('127.98.6.7', port)).toBe('ping'); // a new session
    } finally {
      await forwarder.close();
      echo.close();
    }
  });

  it('gives a Service the address its status names after a restart, and frees addresses on delete', async () => {
    await start();
    const port = await freePort('127.98.6.1');
    const first = await balancer.ensureLoadBalancer('kubus', service('keep', [{ port }]), nodes, options);
    await provider.stop();
    await start();
    const withStatus = service('keep', [{ port }], { status: { loadBalancer: { ingress: [...first] } } });
    expect(await balancer.ensureLoadBalancer('kubus', withStatus, nodes, options)).toEqual(first);
    expect(await ask(first[0]?.ip as string, port)).toMatch(/^hello from/);
  });

  it('fails with typed errors: the pool full (retryable), an address outside the pool, a protocol it cannot serve', async () => {
    await start();
    const port = await freePort('127.98.6.1');
    for (let i = 0; i < 6; i++) await balancer.ensureLoadBalancer('kubus', service(`fill-${i}`, [{ port }]), nodes, options);
    const full = await balancer.ensureLoadBalancer('kubus', service('late', [{ port }]), nodes, options).catch((error: unknown) => error);
    expect(full).toBeInstanceOf(CloudProviderError);
    expect((full as CloudProviderError).retryable).toBe(true);
    expect((full as Error).message).toMatch(/127\.98\.6\.0\/29/);

    const outside = await balancer.ensureLoadBalancer('kubus', service('out', [{ port }], { spec: { loadBalancerIP: '127.98.7.1' } }), nodes, options).catch((error: unknown) => error);
    expect((outside as CloudProviderError).retryable).toBe(false);
    const sctp = await balancer.ensureLoadBalancer('kubus', service('sctp', [{ port, protocol: 'SCTP' }]), nodes, options).catch((error: unknown) => error);
    expect((sctp as CloudProviderError).retryable).toBe(false);
    expect((sctp as Error).message).toMatch(/SCTP/);
  });

  it('a port another process holds: a retryable error naming it, and served once it is free', async () => {
    await start();
    const port = await freePort('127.98.6.5');
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen({ host: '127.98.6.5', port }, resolve));
    const svc = service('taken', [{ port }], { spec: { loadBalancerIP: '127.98.6.5' } });
    const error = await balancer.ensureLoadBalancer('kubus', svc, nodes, options).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CloudProviderError);
    expect((error as CloudProviderError).retryable).toBe(true);
    expect((error as Error).message).toMatch(/127\.98\.6\.5:\d+\/TCP: EADDRINUSE/);
    await new Promise((resolve) => squatter.close(resolve));
    expect(await balancer.ensureLoadBalancer('kubus', svc, nodes, options)).toEqual([{ ip: '127.98.6.5' }]);
    expect(await ask('127.98.6.5', port)).toMatch(/^hello from/);
  });

  it('every node exists, in zone and region local, with providerID local://<name>', async () => {
    await start();
    const instances = provider.instances();
    expect(await instances?.instanceExists(nodes[0] as Node, options)).toBe(true);
    expect(await instances?.instanceShutdown(nodes[0] as Node, options)).toBe(false);
    expect(await instances?.instanceMetadata(nodes[0] as Node, options)).toEqual({
      providerID: 'local://node-a', instanceType: 'local', nodeAddresses: [], zone: 'local', region: 'local',
    });
  });
});
