/**
 * The service proxy on real loopback sockets, with a memory catalog standing in for the cluster:
 * three HTTP "pods" on their own 127.64.201.x addresses give distinct replies through a ClusterIP
 * and a NodePort; a Service without endpoints resets at once; a dead endpoint is skipped; ClientIP
 * affinity sticks; UDP round-trips; an endpoint removed from its Service drains (its open
 * connection keeps working, new ones go elsewhere, closed at the drain bound); an endpoint on
 * another pod network goes through the tunnel dialer (TCP, and UDP as datagram chunks); past the
 * per-Service connection bound new connections are reset; nothing is served before the catalog
 * synced; two proxies on one host share a ClusterIP (one serves, the other stands by and takes
 * over when the first stops).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { createMemoryCatalog } from '../../../nodeagent/services/index.js';
import { startStandaloneProxy, type ServiceProxyHandle } from '../../../nodeagent/proxy/index.js';
import type { TunnelDialer, TunnelTarget } from '../../../nodeagent/tunnel/types.js';
import { waitUntil } from '../../support/wait.js';
import { echoPod, get, httpPod, service, slice, udpAsk, udpPod, type Pod } from './fixtures.js';

const nodeIp = '127.32.201.1';
const pods = ['127.64.201.1', '127.64.201.2', '127.64.201.3'];
const web = service('web', { clusterIP: '127.96.201.10', type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30201, protocol: 'TCP' }] });
const catalog = createMemoryCatalog();
const tunnelled: TunnelTarget[] = [];
const dialer: TunnelDialer = {
  // A fake tunnel: records the target and connects directly (the far agent's part); for UDP a
  // stream whose chunks are datagrams, as the contract says.
  dial: (target) => new Promise((resolve, reject) => {
    tunnelled.push(target);
    if (target.protocol === 'UDP') return resolve(datagramStream(target.address, target.port));
    const socket = net.connect({ host: target.address, port: target.port }, () => resolve(socket));
    socket.once('error', reject);
  }),
};

function datagramStream(address: string, port: number): Duplex {
  const socket = dgram.createSocket('udp4');
  const stream = new Duplex({
    read: () => undefined,
    write: (chunk: Buffer, _encoding, done) => socket.send(chunk, port, address, (error) => done(error ?? null)),
    destroy: (error, done) => {
      socket.close();
      done(error);
    },
  });
  socket.on('message', (msg) => stream.push(msg));
  return stream;
}
const started: Pod[] = [];
let proxy: ServiceProxyHandle;

const serving = (handle: ServiceProxyHandle, key: string): boolean => handle.listeners().get(key) === 'serving';
const bodies = async (address: string, port: number, count: number, localAddress?: string): Promise<string[]> => {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const outcome = await get(address, port, localAddress !== undefined ? { localAddress } : {});
    out.push('body' in outcome ? outcome.body : `error ${outcome.error}`);
  }
  return out;
};

beforeAll(async () => {
  for (const [i, address] of pods.entries()) started.push(await httpPod(address, 8080, `pod-${i + 1}`));
  catalog.setService(web);
  catalog.setSlice(slice('web', pods.map((address) => ({ address, nodeName: 'n1' })), [{ name: 'http', port: 8080 }]));
  proxy = startStandaloneProxy({
    catalog, nodeName: 'n1', nodePortAddresses: [nodeIp], dialer,
    podNetworks: { self: 'net-a', of: (node) => (node === 'far' ? 'net-b' : 'net-a') },
    tuning: { drainMs: 1_500, standbyRetryMs: 100, connectTimeoutMs: 1_000 },
  });
  await waitUntil('the ClusterIP and NodePort listeners serve', () => serving(proxy, 'TCP/127.96.201.10:80') && serving(proxy, `TCP/${nodeIp}:30201`), { timeoutMs: 10_000 });
});

afterAll(async () => {
  await proxy?.stop();
  for (const pod of started) await pod.close();
});

describe('service proxy on loopback', () => {
  it('reaches all three pods round-robin through the ClusterIP and through the NodePort', async () => {
    expect(new Set(await bodies('127.96.201.10', 80, 6))).toEqual(new Set(['pod-1', 'pod-2', 'pod-3']));
    expect(new Set(await bodies(nodeIp, 30201, 6))).toEqual(new Set(['pod-1', 'pod-2', 'pod-3']));
  });

  it('resets at once when the Service has no ready endpoint, and serves again when one is back', async () => {
    catalog.setSlice(slice('web', pods.map((address) => ({ address, ready: false })), [{ name: 'http', port: 8080 }]));
    await waitUntil('the reset', async () => {
      const outcome = await get('127.96.201.10', 80);
      return 'error' in outcome && outcome.error === 'ECONNRESET';
    }, { timeoutMs: 5_000 });
    catalog.setSlice(slice('web', pods.map((address) => ({ address })), [{ name: 'http', port: 8080 }]));
    await waitUntil('served again', async () => 'body' in (await get('127.96.201.10', 80)), { timeoutMs: 5_000 });
  });

  it('uses serving terminating endpoints when none is ready', async () => {
    catalog.setSlice(slice('web', [{ address: pods[0]!, ready: false, serving: true, terminating: true }, { address: pods[1]!, ready: false, serving: false, terminating: true }], [{ name: 'http', port: 8080 }]));
    await waitUntil('only the serving terminating pod answers', async () => (await bodies('127.96.201.10', 80, 3)).every((b) => b === 'pod-1'), { timeoutMs: 5_000 });
    catalog.setSlice(slice('web', pods.map((address) => ({ address })), [{ name: 'http', port: 8080 }]));
  });

  it('skips an endpoint that refuses and serves from the others', async () => {
    catalog.setSlice(slice('web', [...pods, '127.64.201.9'].map((address) => ({ address })), [{ name: 'http', port: 8080 }]));
    const replies = await bodies('127.96.201.10', 80, 8);
    expect(replies.every((b) => b.startsWith('pod-'))).toBe(true);
    catalog.setSlice(slice('web', pods.map((address) => ({ address })), [{ name: 'http', port: 8080 }]));
  });

  it('keeps a client on one endpoint with ClientIP affinity', async () => {
    const sticky = service('sticky', { clusterIP: '127.96.201.11', sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] });
    catalog.setService(sticky);
    catalog.setSlice(slice('sticky', pods.map((address) => ({ address })), [{ port: 8080 }]));
    await waitUntil('sticky served', () => serving(proxy, 'TCP/127.96.201.11:80'), { timeoutMs: 5_000 });
    const fromA = await bodies('127.96.201.11', 80, 5, '127.0.0.2');
    const fromB = await bodies('127.96.201.11', 80, 5, '127.0.0.3');
    expect(new Set(fromA).size).toBe(1);
    expect(new Set(fromB).size).toBe(1);
    expect(fromA[0]).toMatch(/^pod-/);
    catalog.deleteService(sticky);
    await waitUntil('sticky listener closed', () => !proxy.listeners().has('TCP/127.96.201.11:80'), { timeoutMs: 5_000 });
  });

  it('round-trips UDP datagrams', async () => {
    const udpPods = [await udpPod(pods[0]!, 5353, 'u1'), await udpPod(pods[1]!, 5353, 'u2')];
    started.push(...udpPods);
    catalog.setService(service('dns', { clusterIP: '127.96.201.12', ports: [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }] }));
    catalog.setSlice(slice('dns', [pods[0]!, pods[1]!].map((address) => ({ address })), [{ name: 'dns', port: 5353, protocol: 'UDP' }]));
    await waitUntil('UDP served', () => serving(proxy, 'UDP/127.96.201.12:53'), { timeoutMs: 5_000 });
    const replies = new Set<string | null>();
    for (let i = 0; i < 4; i++) replies.add(await udpAsk('127.96.201.12', 53, 'hello'));
    expect(replies).toEqual(new Set(['u1:hello', 'u2:hello']));
  });

  it('drains the connections of an endpoint that left its Service, up to the drain bound', async () => {
    const echo = await echoPod(pods[0]!, 9000, 'e1');
    const other = await echoPod(pods[1]!, 9000, 'e2');
    started.push(echo, other);
    catalog.setService(service('echo', { clusterIP: '127.96.201.13', ports: [{ port: 9000, protocol: 'TCP' }] }));
    catalog.setSlice(slice('echo', [{ address: pods[0]! }], [{ port: 9000 }]));
    await waitUntil('echo served', () => serving(proxy, 'TCP/127.96.201.13:9000'), { timeoutMs: 5_000 });
    const client = net.connect({ host: '127.96.201.13', port: 9000 });
    const received: string[] = [];
    client.on('data', (chunk) => received.push(chunk.toString()));
    client.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
    client.write('a');
    await waitUntil('the first echo', () => received.join('') === 'e1:a', { timeoutMs: 5_000 });
    catalog.setSlice(slice('echo', [{ address: pods[1]! }], [{ port: 9000 }]));
    await waitUntil('new connections go to the remaining endpoint', async () => (await echoOnce('127.96.201.13', 9000, 'x')) === 'e2:x', { timeoutMs: 5_000 });
    client.write('b');
    await waitUntil('the draining connection still answers', () => received.join('') === 'e1:ae1:b', { timeoutMs: 5_000 });
    await closed; // the drain bound (1.5 s here) closes it
    expect(received.join('')).toBe('e1:ae1:b');
  });

  it('opens endpoints on another pod network through the tunnel dialer', async () => {
    catalog.setService(service('far', { clusterIP: '127.96.201.14', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] }));
    catalog.setSlice(slice('far', [{ address: pods[2]!, nodeName: 'far' }], [{ port: 8080 }]));
    await waitUntil('far served', () => serving(proxy, 'TCP/127.96.201.14:80'), { timeoutMs: 5_000 });
    expect(await get('127.96.201.14', 80)).toEqual({ body: 'pod-3' });
    expect(tunnelled).toContainEqual({ node: 'far', address: pods[2], port: 8080, protocol: 'TCP' });
    started.push(await udpPod(pods[2]!, 5353, 'u3'));
    catalog.setService(service('far-dns', { clusterIP: '127.96.201.14', ports: [{ port: 53, targetPort: 5353, protocol: 'UDP' }] }));
    catalog.setSlice(slice('far-dns', [{ address: pods[2]!, nodeName: 'far' }], [{ port: 5353, protocol: 'UDP' }]));
    await waitUntil('far UDP served', () => serving(proxy, 'UDP/127.96.201.14:53'), { timeoutMs: 5_000 });
    expect(await udpAsk('127.96.201.14', 53, 'over')).toBe('u3:over');
    expect(tunnelled).toContainEqual({ node: 'far', address: pods[2], port: 5353, protocol: 'UDP' });
  });

  it('resets connections past the per-Service bound', async () => {
    const bounded = startStandaloneProxy({ catalog, nodePortAddresses: ['127.32.201.3'], tuning: { connectionsPerServiceMax: 1 } });
    try {
      await waitUntil('the bounded proxy serves the NodePort of web', () => serving(bounded, 'TCP/127.32.201.3:30201'), { timeoutMs: 5_000 });
      const held = net.connect({ host: '127.32.201.3', port: 30201 });
      held.on('error', () => undefined);
      // Nothing sent: the pod keeps a connection waiting for its request open (a reply would start its 100 ms keep-alive close).
      await waitUntil('the first connection is open', () => bounded.connections({ namespace: 'default', name: 'web' }) === 1, { timeoutMs: 5_000 });
      expect(await get('127.32.201.3', 30201)).toEqual({ error: 'ECONNRESET' });
      held.destroy();
      await waitUntil('served again once it closed', async () => 'body' in (await get('127.32.201.3', 30201)), { timeoutMs: 5_000 });
    } finally {
      await bounded.stop();
    }
  });

  it('serves nothing before its catalog synced (no resets while the slices are still loading)', async () => {
    const base = createMemoryCatalog();
    let synced = false;
    let release: () => void = () => undefined;
    const syncing = new Promise<void>((resolve) => (release = resolve));
    const gated = { ...base, synced: () => synced, waitForSync: async () => { await syncing; return true; } };
    const early = startStandaloneProxy({ catalog: gated, nodePortAddresses: [] });
    try {
      base.setService(service('early', { clusterIP: '127.96.201.15', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] }));
      await new Promise((resolve) => setImmediate(resolve)); // the catalog's change feed has run (a microtask): nothing may have started
      expect(early.listeners().size).toBe(0);
      base.setSlice(slice('early', [{ address: pods[0]! }], [{ port: 8080 }]));
      synced = true;
      release();
      await waitUntil('served once synced', () => serving(early, 'TCP/127.96.201.15:80'), { timeoutMs: 5_000 });
      expect(await get('127.96.201.15', 80)).toEqual({ body: 'pod-1' });
    } finally {
      await early.stop();
    }
  });

  it('lets a second proxy on the host stand by for a taken ClusterIP and take over when the first stops', async () => {
    const second = startStandaloneProxy({ catalog, nodeName: 'n2', nodePortAddresses: ['127.32.201.2'], tuning: { standbyRetryMs: 100 } });
    try {
      await waitUntil('the second stands by for the ClusterIP and serves its own NodePort', () =>
        second.listeners().get('TCP/127.96.201.10:80') === 'standby' && serving(second, 'TCP/127.32.201.2:30201'), { timeoutMs: 5_000 });
      await proxy.stop();
      await waitUntil('the second takes over', () => serving(second, 'TCP/127.96.201.10:80'), { timeoutMs: 5_000 });
      expect(new Set(await bodies('127.96.201.10', 80, 6))).toEqual(new Set(['pod-1', 'pod-2', 'pod-3']));
    } finally {
      await second.stop();
    }
  });
});

function echoOnce(address: string, port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port }, () => socket.write(text));
    socket.on('data', (chunk) => {
      resolve(chunk.toString());
      socket.destroy();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`));
  });
}
