/**
 * `npm run bench:api`: figures, not assertions. A 3-member cluster on loopback, every member
 * serving the Kubernetes API over HTTPS; the load goes to one member's API (as kubectl with one
 * kubeconfig would). Reports mutating (create) and read (get) latency p50/p99 and requests/s at
 * 1, 16 and 64 concurrent clients, and watch delivery latency (write → event) at 100 watchers.
 * Kubernetes' own SLO: mutating p99 <= 1 s. `--json` ends with one line of JSON;
 * KUBUS_BENCH_ROW_MS shortens each throughput row (default 5000) for a quick look.
 */
import { Agent, request } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalCluster } from '../topology/local-processes.js';
import { ensureClusterCredentials } from '../../actors/apiserver/credentials.js';
import { percentile } from './workload.js';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const apiBenchLimits = {
  /** Each throughput row runs this long. */
  rowMs: Number(process.env['KUBUS_BENCH_ROW_MS'] ?? 5_000),
  watchers: 100,
  /** Writes whose events every watcher must see; sequential, so each is one clean measurement. */
  watchWrites: 50,
  /** Sockets to the API: one per concurrent client, like separate kubectl processes. */
  socketsMax: 64,
} as const;

interface Row { readonly test: string; readonly clients: number; readonly requestsPerSecond: number; readonly p50Ms: number; readonly p99Ms: number; readonly errors: number }
const progress = (line: string): void => void process.stderr.write(`${line}\n`);

const dir = mkdtempSync(join(tmpdir(), 'kubus-bench-api-'));
const credentials = await ensureClusterCredentials(join(dir, 'credentials'), { hosts: ['127.0.0.1', 'localhost'] });
const cluster = new LocalCluster({ dir, members: 3, apiCredentialsDir: join(dir, 'credentials') });
progress('starting a 3-member cluster with the API on every member');
await cluster.start();
await cluster.waitForLeader({ timeoutMs: 30_000 });
const base = cluster.apiUrl('s1') as string;
const agent = new Agent({ keepAlive: true, maxSockets: apiBenchLimits.socketsMax, ca: credentials.caCertPem });
const headers = { Authorization: `Bearer ${credentials.adminToken}`, 'Content-Type': 'application/json', Accept: 'application/json' };

function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function waitReady(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ns = await call('GET', '/api/v1/namespaces/default').catch(() => ({ status: 0, body: '' }));
    if (ns.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the API did not serve the default namespace within 60 s');
}

async function row(test: 'create' | 'get', clients: number): Promise<Row> {
  const latencies: number[] = [];
  let errors = 0;
  let sequence = 0;
  const until = performance.now() + apiBenchLimits.rowMs;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < until) {
      const n = sequence++;
      const t0 = performance.now();
      const reply = test === 'create'
        ? await call('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `bench-${clients}-${n}` }, data: { n: String(n) } })
        : await call('GET', `/api/v1/namespaces/default/configmaps/bench-1-${n % 50}`);
      if (reply.status >= 200 && reply.status < 300) latencies.push(performance.now() - t0);
      else errors++;
    }
  }));
  latencies.sort((a, b) => a - b);
  const result: Row = {
    test, clients, requestsPerSecond: Math.round(latencies.length / ((performance.now() - started) / 1000)),
    p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)), errors,
  };
  progress(`${test} x${clients}: ${result.requestsPerSecond} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, errors ${errors}`);
  return result;
}

/** 100 watchers on one object; each write's event latency measured from just before the write. */
async function watchLatency(): Promise<{ watchers: number; deliveries: number; p50Ms: number; p99Ms: number }> {
  // Its own namespace: a watch starts with a list of its namespace, which the rows above filled.
  await call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-watch' } });
  await call('POST', '/api/v1/namespaces/bench-watch/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched' }, data: { v: '0' } });
  const arrivals = new Map<string, number[]>();
  let established = 0;
  const watchAgent = new Agent({ keepAlive: false, ca: credentials.caCertPem, maxSockets: apiBenchLimits.watchers + 1 });
  const streams = await Promise.all(Array.from({ length: apiBenchLimits.watchers }, () => new Promise<import('node:http').ClientRequest>((resolve, reject) => {
    const req = request(new URL('/api/v1/namespaces/bench-watch/configmaps?watch=1&fieldSelector=metadata.name%3Dwatched&resourceVersion=0', base), { agent: watchAgent, headers }, (res) => {
      let buffer = '';
      res.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          const event = JSON.parse(line) as { type: string; object: { data?: { v?: string } } };
          const v = event.object.data?.v;
          if (event.type === 'ADDED') established++;
          if (event.type === 'MODIFIED' && v !== undefined) arrivals.set(v, [...(arrivals.get(v) ?? []), performance.now()]);
        }
      });
      resolve(req);
    });
    req.on('error', reject);
    req.end();
  })));
  // A watch counts once its initial ADDED arrived: only then is it surely following the store.
  const establishDeadline = performance.now() + 30_000;
  while (established < apiBenchLimits.watchers && performance.now() < establishDeadline) await new Promise((resolve) => setTimeout(resolve, 10));
  progress(`${established} of ${apiBenchLimits.watchers} watches established`);
  const latencies: number[] = [];
  for (let i = 1; i <= apiBenchLimits.watchWrites; i++) {
    const t0 = performance.now();
    const reply = await new Promise<{ status: number }>((resolve, reject) => {
      const req = request(new URL('/api/v1/namespaces/bench-watch/configmaps/watched', base), { method: 'PATCH', agent, headers: { ...headers, 'Content-Type': 'application/merge-patch+json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ data: { v: String(i) } }));
    });
    if (reply.status !== 200) continue;
    const deadline = performance.now() + 5_000;
    while ((arrivals.get(String(i))?.length ?? 0) < apiBenchLimits.watchers && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    for (const at of arrivals.get(String(i)) ?? []) latencies.push(at - t0);
  }
  for (const stream of streams) stream.destroy();
  latencies.sort((a, b) => a - b);
  const result = { watchers: apiBenchLimits.watchers, deliveries: latencies.length, p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)) };
  progress(`watch delivery at ${result.watchers} watchers: ${result.deliveries} events, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms (write start → event)`);
  return result;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

try {
  await waitReady();
  const rows: Row[] = [];
  for (const clients of [1, 16, 64]) rows.push(await row('create', clients));
  for (const clients of [1, 16, 64]) rows.push(await row('get', clients));
  const watch = await watchLatency();
  console.log(`\n${'row'.padEnd(28)}${'req/s'.padEnd(10)}${'p50 ms'.padEnd(10)}${'p99 ms'.padEnd(10)}errors`);
  for (const r of rows) console.log(`${`${r.test === 'create' ? 'mutating (create)' : 'read (get)'}, ${r.clients}`.padEnd(28)}${String(r.requestsPerSecond).padEnd(10)}${String(r.p50Ms).padEnd(10)}${String(r.p99Ms).padEnd(10)}${r.errors}`);
  console.log(`${`watch delivery, ${watch.watchers} watchers`.padEnd(28)}${'-'.padEnd(10)}${String(watch.p50Ms).padEnd(10)}${String(watch.p99Ms).padEnd(10)}${apiBenchLimits.watchWrites * watch.watchers - watch.deliveries} missed`);
  if (values.json) console.log(JSON.stringify({ rows, watch }));
} finally {
  agent.destroy();
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
