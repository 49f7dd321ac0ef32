/**
 * The benchmark's reference: a 3-member etcd (Debian's etcd-server) on loopback, driven through
 * etcd's JSON gateway (`/v3/kv/put`, `/v3/kv/range`) with keep-alive HTTP. Decision: no gRPC
 * client dependency just for a benchmark; the gateway costs etcd some throughput, which we say
 * next to the figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../bus/index.js';
import type { BenchTarget } from './workload.js';

interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly argv: string[];
  child: ChildProcess | null;
}

/** Per request, like an etcd client's dial/request timeout: a request stuck on a dead leader moves on. */
const requestTimeoutMs = 2_000;

export async function startEtcdTarget(): Promise<BenchTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-bench-etcd-'));
  const names = ['e1', 'e2', 'e3'];
  const ports = await Promise.all(names.map(async () => ({ client: await freePort(), peer: await freePort() })));
  const initialCluster = names.map((name, i) => `${name}=http://127.0.0.1:${ports[i]?.peer}`).join(',');
  const members: EtcdMember[] = names.map((name, i) => {
    const port = ports[i] as { client: number; peer: number };
    const clientUrl = `http://127.0.0.1:${port.client}`;
    return {
      name, clientUrl, child: null,
      argv: [
        '--name', name, '--data-dir', join(dir, name),
        '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
        '--listen-peer-urls', `http://127.0.0.1:${port.peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${port.peer}`,
        '--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', 'kubus-bench',
        '--log-level', 'error', '--logger', 'zap',
      ],
    };
  });
  const start = (member: EtcdMember): void => {
    member.child = spawn('etcd', member.argv, { stdio: 'ignore' });
  };
  members.forEach(start);
  let next = 0;
  const post = async (path: string, body: unknown, member?: EtcdMember): Promise<Record<string, unknown>> => {
    // Like etcd's client balancer: skip endpoints that are down, fail over on a refused connection.
    let target = member ?? (members[next++ % members.length] as EtcdMember);
    for (let tries = 0; member === undefined && target.child === null && tries < members.length; tries++) target = members[next++ % members.length] as EtcdMember;
    const response = await fetch(`${target.clientUrl}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(requestTimeoutMs) });
    if (!response.ok) throw new Error(`etcd ${path}: HTTP ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  };
  const leader = async (): Promise<EtcdMember> => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      for (const member of members) {
        if (member.child === null) continue;
        try {
          const status = await post('/v3/maintenance/status', {}, member);
          const header = status['header'] as { member_id?: string } | undefined;
          if (header?.member_id !== undefined && header.member_id === status['leader']) return member;
        } catch {
          // Not up yet.
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('etcd: no leader within 30 s');
  };
  await leader();
  const b64 = (text: string | Uint8Array): string => Buffer.from(text).toString('base64');
  let killed: EtcdMember | null = null;
  return {
    name: 'etcd',
    async put(key, value) {
      await post('/v3/kv/put', { key: b64(key), value: b64(value) });
    },
    async putRetrySafe(key, value) {
      // A put of the same value is idempotent in etcd's data model for this benchmark's purpose.
      await post('/v3/kv/put', { key: b64(key), value: b64(value) });
    },
    async get(key) {
      await post('/v3/kv/range', { key: b64(key) });
    },
    async killLeader() {
      killed = await leader();
      const child = killed.child;
      killed.child = null;
      if (child !== null && child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    },
    async restartKilled() {
      if (killed === null) return;
      start(killed);
      killed = null;
      await leader();
    },
    async stop() {
      await Promise.all(members.map(async (member) => {
        const child = member.child;
        if (child === null || child.exitCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
