/**
 * `npm run bench:proxy`: figures, not assertions. HTTP requests/s and latency (p50, p99) to one
 * pod, four ways: directly to the pod, through the node proxy's ClusterIP and NodePort (the local
 * path), and through the NATS tunnel (the proxy's NodePort of a Service whose endpoint is on
 * another pod network, so the proxy carries the stream over NATS to the pod's agent, which
 * connects locally). Each with HTTP keep-alive (one connection per client, many requests) and
 * with a new connection per request, at 1 and 64 concurrent clients. Prints a table and the
 * ratio of each path's throughput to direct; the goal is that the local path (NodePort) costs at
 * most 20 % of direct throughput (ratio >= 0.80). `--json` ends with one line of JSON;
 * `--row-ms <ms>` (or KUBUS_BENCH_ROW_MS) sets each row's length (default 3000).
 *
 * Decision: every party is its own process, as in a cluster: the pod (a Node HTTP server on its
 * loopback pod address), node A's proxy (the standalone proxy of nodeagent/proxy with a memory
 * catalog, and node A's tunnel dialer), node B's agent side of the tunnel (the tunnel server,
 * with a runtime that reports the pod), a nats-server in operator mode with agent users minted as
 * the API mints them, and this process generating load. This file is all of them: it starts
 * itself with `--role pod|proxy|tunnel`. On a small machine they share the cores, which the
 * figures include; compare rows from the same run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { NatsBus, NatsServerProcess, SystemClock, createJsonLogger, ensureNatsCredentials } from '../../bus/index.js';
import { createMemoryCatalog } from '../../nodeagent/services/index.js';
import { startStandaloneProxy } from '../../nodeagent/proxy/index.js';
import { createTunnelDialer, startTunnelServer } from '../../nodeagent/tunnel/index.js';
import { percentile } from './workload.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    'row-ms': { type: 'string' },
    role: { type: 'string' },
    nats: { type: 'string' },
    dir: { type: 'string' },
  },
});

/** The bench's address plan, inside the loopback ranges `kubus up` uses (none of it needs setup). */
const plan = {
  cluster: 'bench',
  podIp: '127.64.0.10',
  podPort: 8080,
  /** Node A's address: its proxy's NodePorts. */
  nodeIp: '127.32.0.250',
  clusterIp: '127.96.0.250',
  servicePort: 80,
  localNodePort: 30080,
  farNodePort: 30081,
} as const;

const proxyBenchLimits = {
  rowMs: Number(values['row-ms'] ?? process.env['KUBUS_BENCH_ROW_MS'] ?? 3_000),
  concurrency: [1, 64] as const,
  /** One request that takes longer counts as an error: a hung path must not stall the row. */
  requestTimeoutMs: 5_000,
  /** The children start (tsx), connect to NATS and bind within this. */
  readyTimeoutMs: 60_000,
} as const;

const logger = createJsonLogger({ level: 'warn' });
const progress = (line: string): void => void process.stderr.write(`${line}\n`);
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the child roles ----

async function runPod(): Promise<void> {
  const server = createServer((_request, response) => response.end('ok'));
  // Longer than any row: a keep-alive client keeps its connection for the whole row.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(plan.podPort, plan.podIp, resolve));
}

async function agentBus(node: string): Promise<NatsBus> {
  const credentials = ensureNatsCredentials(values.dir as string);
  const user = await credentials.mintAgent(plan.cluster, node, { ttlMs: 60 * 60_000, nowMs: Date.now() });
  return NatsBus.connect({ servers: [values.nats as string], name: `bench-${node}`, user, connectTimeoutMs: 5_000, reconnect: false, logger });
}

async function runTunnel(): Promise<void> {
  const bus = await agentBus('node-b');
  const runtime = { listPodSandboxes: async () => [{ id: 'pod', podUid: 'pod-uid', state: 'ready' as const, ip: plan.podIp, createdAtMs: 0, labels: {} }] };
  startTunnelServer({ bus, cluster: plan.cluster, nodeName: 'node-b', clock: new SystemClock(), logger }, { runtime });
}

function service(name: string, nodePort: number): Service {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', uid: `${name}-uid` },
    spec: {
      type: 'NodePort', clusterIP: name === 'local' ? plan.clusterIp : '127.96.0.251', clusterIPs: [name === 'local' ? plan.clusterIp : '127.96.0.251'],
      ports: [{ name: 'http', port: plan.servicePort, targetPort: plan.podPort, nodePort, protocol: 'TCP' }], sessionAffinity: 'None', externalTrafficPolicy: 'Cluster',
    },
  };
}

function slice(name: string, nodeName: string): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
    endpoints: [{ addresses: [plan.podIp], nodeName, conditions: { ready: true, serving: true, terminating: false } }],
    ports: [{ name: 'http', port: plan.podPort, protocol: 'TCP' }],
  };
}

async function runProxy(): Promise<void> {
  const bus = await agentBus('node-a');
  const clock = new SystemClock();
  const catalog = createMemoryCatalog();
  // The same pod twice: `local` says it runs on node A (dialled directly), `far` on node B, whose
  // pod network differs (so the proxy tunnels to B's agent).
  catalog.setService(service('local', plan.localNodePort));
  catalog.setSlice(slice('local', 'node-a'));
  catalog.setService(service('far', plan.farNodePort));
  catalog.setSlice(slice('far', 'node-b'));
  startStandaloneProxy({
    catalog, nodeName: 'node-a', nodePortAddresses: [plan.nodeIp], clock, logger,
    podNetworks: { self: 'net-a', of: (node) => (node === 'node-b' ? 'net-b' : 'net-a') },
    dialer: createTunnelDialer({ bus, cluster: plan.cluster, nodeName: 'node-a', clock, logger }),
  });
}

// ---- the load ----

const request = (host: string, close: boolean): string => `GET / HTTP/1.1\r\nHost: ${host}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
/** The pod answers `ok` with a Content-Length: a reply is complete when its buffer ends so. */
const replyEnd = '\r\n\r\nok';

/** A keep-alive client: one connection, requests one after another. */
class KeepAliveClient {
  private socket: Socket | null = null;
  private buffered = '';
  private waiting: ((ok: boolean) => void) | null = null;

  constructor(private readonly host: string, private readonly port: number) {}

  private open(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port, noDelay: true });
      socket.setEncoding('latin1');
      socket.once('connect', () => resolve(socket));
      socket.once('error', reject);
      socket.on('data', (chunk: string) => {
        this.buffered += chunk;
        if (this.buffered.endsWith(replyEnd)) this.settle(this.buffered.startsWith('HTTP/1.1 200'));
      });
      socket.on('close', () => {
        this.socket = null;
        this.settle(false);
      });
    });
  }

  private settle(ok: boolean): void {
    const waiting = this.waiting;
    this.waiting = null;
    this.buffered = '';
    waiting?.(ok);
  }

  async once(): Promise<boolean> {
    this.socket ??= await this.open();
    const socket = this.socket;
    return new Promise((resolve) => {
      const timer = setTimeout(() => (socket.destroy(), resolve(false)), proxyBenchLimits.requestTimeoutMs);
      this.waiting = (ok) => (clearTimeout(timer), resolve(ok));
      socket.write(request(this.host, false));
    });
  }

  close(): void {
    this.socket?.destroy();
  }
}

/** A request on a new connection, closed by the server after its reply. */
function freshRequest(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, noDelay: true });
    let data = '';
    const timer = setTimeout(() => (socket.destroy(), resolve(false)), proxyBenchLimits.requestTimeoutMs);
    socket.setEncoding('latin1');
    socket.once('connect', () => socket.write(request(host, true)));
    socket.on('data', (chunk: string) => (data += chunk));
    socket.once('error', () => (clearTimeout(timer), resolve(false)));
    socket.once('close', () => (clearTimeout(timer), resolve(data.startsWith('HTTP/1.1 200') && data.endsWith(replyEnd))));
  });
}

export interface Row {
  readonly path: string;
  readonly mode: 'keep-alive' | 'new-connection';
  readonly clients: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

async function row(path: string, target: { host: string; port: number }, mode: Row['mode'], clients: number): Promise<Row> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const until = started + proxyBenchLimits.rowMs;
  await Promise.all(Array.from({ length: clients }, async () => {
    const client = mode === 'keep-alive' ? new KeepAliveClient(target.host, target.port) : null;
    while (performance.now() < until) {
      const t0 = performance.now();
      const ok = client !== null ? await client.once().catch(() => false) : await freshRequest(target.host, target.port);
      if (ok) latencies.push(performance.now() - t0);
      else errors++;
    }
    client?.close();
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { path, mode, clients, requestsPerSecond: Math.round(latencies.length / seconds), p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)), errors };
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

async function waitServing(what: string, host: string, port: number): Promise<void> {
  const deadline = Date.now() + proxyBenchLimits.readyTimeoutMs;
  while (!(await freshRequest(host, port))) {
    if (Date.now() > deadline) throw new Error(`${what} (${host}:${port}) did not answer within ${proxyBenchLimits.readyTimeoutMs} ms`);
    // Polling the children's start-up (tsx, NATS, binding); not a measurement.
    await pause(200);
  }
}

function startRole(role: string, dir: string, natsUrl: string): ChildProcess {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...process.execArgv, self, '--role', role, '--dir', dir, '--nats', natsUrl], { stdio: ['ignore', 'inherit', 'inherit'] });
  return child;
}

function printTable(rows: readonly Row[]): void {
  const header = ['path', 'mode', 'clients', 'req/s', 'p50 ms', 'p99 ms', 'errors'];
  const lines = rows.map((r) => [r.path, r.mode, String(r.clients), String(r.requestsPerSecond), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), String(r.errors)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  for (const line of [header, ...lines]) console.log(line.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '));
}

/** Each path's throughput as a share of direct, per mode and client count. */
export function ratios(rows: readonly Row[]): { path: string; mode: Row['mode']; clients: number; ofDirect: number }[] {
  return rows.filter((r) => r.path !== 'direct').map((r) => {
    const direct = rows.find((d) => d.path === 'direct' && d.mode === r.mode && d.clients === r.clients);
    const ofDirect = direct === undefined || direct.requestsPerSecond === 0 ? 0 : Math.round((r.requestsPerSecond / direct.requestsPerSecond) * 100) / 100;
    return { path: r.path, mode: r.mode, clients: r.clients, ofDirect };
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-bench-proxy-'));
  const credentials = ensureNatsCredentials(dir);
  const nats = await NatsServerProcess.start({ maxPayloadBytes: 2 * 1024 * 1024, auth: await credentials.serverConfig() });
  const children = ['pod', 'tunnel', 'proxy'].map((role) => startRole(role, dir, nats.url));
  try {
    progress('starting the pod, node B\'s tunnel server and node A\'s proxy (separate processes)');
    const targets = {
      direct: { host: plan.podIp, port: plan.podPort },
      clusterip: { host: plan.clusterIp, port: plan.servicePort },
      nodeport: { host: plan.nodeIp, port: plan.localNodePort },
      tunnel: { host: plan.nodeIp, port: plan.farNodePort },
    };
    for (const [name, target] of Object.entries(targets)) await waitServing(name, target.host, target.port);
    const rows: Row[] = [];
    for (const mode of ['keep-alive', 'new-connection'] as const) {
      for (const clients of proxyBenchLimits.concurrency) {
        for (const [path, target] of Object.entries(targets)) {
          const measured = await row(path, target, mode, clients);
          progress(`${path} ${mode} ${clients}: ${measured.requestsPerSecond} req/s, p99 ${measured.p99Ms} ms, ${measured.errors} errors`);
          rows.push(measured);
        }
      }
    }
    printTable(rows);
    const shares = ratios(rows);
    console.log('');
    console.log('throughput as a share of direct (goal for the local path, nodeport: >= 0.80):');
    for (const share of shares) console.log(`  ${share.path.padEnd(9)} ${share.mode.padEnd(14)} ${String(share.clients).padStart(2)} clients: ${share.ofDirect.toFixed(2)}`);
    if (values.json) console.log(JSON.stringify({ rowMs: proxyBenchLimits.rowMs, rows, ratios: shares }));
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

switch (values.role) {
  case 'pod': await runPod(); break;
  case 'tunnel': await runTunnel(); break;
  case 'proxy': await runProxy(); break;
  default: await main();
}
