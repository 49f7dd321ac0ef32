/**
 * Builders and tiny "pods" for the proxy tests: Services and EndpointSlices as the cluster writes
 * them, HTTP/TCP/UDP servers on per-pod loopback addresses (127.64.x.y), and clients that report a
 * reset as such.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

export interface EndpointSpec {
  readonly address: string;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
  readonly nodeName?: string;
}

export function service(name: string, spec: { clusterIP: string; ports: ServicePort[]; type?: string; externalTrafficPolicy?: string; sessionAffinity?: string; affinityTimeoutSeconds?: number; namespace?: string }): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: spec.namespace ?? 'default', creationTimestamp: '2026-01-01T00:00:00Z', resourceVersion: '1' },
    spec: {
      type: spec.type ?? 'ClusterIP', clusterIP: spec.clusterIP, clusterIPs: [spec.clusterIP], ports: spec.ports,
      ...(spec.externalTrafficPolicy !== undefined ? { externalTrafficPolicy: spec.externalTrafficPolicy } : {}),
      ...(spec.sessionAffinity !== undefined ? { sessionAffinity: spec.sessionAffinity } : {}),
      ...(spec.affinityTimeoutSeconds !== undefined ? { sessionAffinityConfig: { clientIP: { timeoutSeconds: spec.affinityTimeoutSeconds } } } : {}),
    },
  } as Service;
}

export function slice(serviceName: string, endpoints: readonly EndpointSpec[], ports: { name?: string; port: number; protocol?: string }[], options: { name?: string; namespace?: string } = {}): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name: options.name ?? `${serviceName}-abc`, namespace: options.namespace ?? 'default', labels: { 'kubernetes.io/service-name': serviceName } },
    ports: ports.map((p) => ({ ...(p.name !== undefined ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: endpoints.map((e) => ({
      addresses: [e.address],
      conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false },
      ...(e.nodeName !== undefined ? { nodeName: e.nodeName } : {}),
    })),
  } as EndpointSlice;
}

export interface Pod {
  readonly address: string;
  close(): Promise<void>;
}

/** An HTTP server answering its own name. */
export async function httpPod(address: string, port: number, name: string): Promise<Pod> {
  const server = http.createServer((_req, res) => res.end(name));
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  return { address, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

/** A TCP server that prefixes each chunk it echoes with its name (long-lived connections: draining). */
export async function echoPod(address: string, port: number, name: string): Promise<Pod> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => socket.write(`${name}:${chunk.toString()}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  return { address, close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }) };
}

/** A UDP server answering `<name>:<datagram>`. */
export async function udpPod(address: string, port: number, name: string): Promise<Pod> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, from) => socket.send(`${name}:${msg.toString()}`, from.port, from.address));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve());
  });
  return { address, close: () => new Promise((resolve) => socket.close(() => resolve())) };
}

export type HttpOutcome = { readonly body: string } | { readonly error: string };

/** One GET on a fresh connection (no keep-alive: each request is one proxied connection). */
export function get(address: string, port: number, options: { localAddress?: string } = {}): Promise<HttpOutcome> {
  return new Promise((resolve) => {
    const req = http.get({ host: address, port, path: '/', agent: false, timeout: 5_000, ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}) }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ body }));
      res.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
  });
}

/** One datagram to `address:port`, the first reply (or null after `timeoutMs`). */
export function udpAsk(address: string, port: number, text: string, timeoutMs = 2_000): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => { socket.close(); resolve(null); }, timeoutMs);
    socket.on('message', (msg) => { clearTimeout(timer); socket.close(); resolve(msg.toString()); });
    socket.send(text, port, address);
  });
}
