/**
 * The benchmark's reference: an N-member etcd (Debian's etcd-server) on loopback, driven through
 * its native gRPC API (etcd-grpc/client.ts): one call per operation, no retries, a deadline per
 * call, one channel per member, round-robin over live members.
 *
 * `gateway: true` drives it through etcd's JSON gateway instead (`/v3/kv/put` over keep-alive HTTP),
 * only to reproduce figures taken before issue 14; the gateway costs etcd much of its throughput,
 * so it is never the comparison.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../bus/index.js';
import { exited } from './child-processes.js';
import { EtcdGrpcClient, etcdClientLimits, type EtcdMemberStatus } from './etcd-grpc/client.js';
import type { BenchTarget } from './workload.js';

interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly argv: string[];
  child: ChildProcess | null;
}

/** What the target needs from a way of talking to etcd. */
interface EtcdTransport {
  put(key: string, value: Uint8Array): Promise<void>;
  range(key: string): Promise<void>;
  status(member: EtcdMember): Promise<EtcdMemberStatus>;
  close(): void;
}

export interface EtcdTargetOptions {
  readonly members: number;
  /** Drive etcd through its JSON gateway instead of gRPC (not a fair comparison; see the header). */
  readonly gateway?: boolean;
}

/** Waiting for an elected leader after start or restart: etcd elects within a few seconds here, more under heavy load. */
const leaderWaitMs = 60_000;
/** Between leader polls: status calls are cheap, and an election takes ~1 s. */
const leaderPollMs = 100;

export async function startEtcdTarget(options: EtcdTargetOptions): Promise<BenchTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-bench-etcd-'));
  const names = Array.from({ length: options.members }, (_, i) => `e${i + 1}`);
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
  const transport = options.gateway === true ? gatewayTransport(members) : grpcTransport(members);
  const leader = async (): Promise<EtcdMember> => {
    const deadline = Date.now() + leaderWaitMs;
    while (Date.now() < deadline) {
      for (const member of members) {
        if (member.child === null) continue;
        const status = await transport.status(member).catch(() => null);
        if (status !== null && status.memberId !== '0' && status.memberId === status.leaderId) return member;
      }
      await new Promise((resolve) => setTimeout(resolve, leaderPollMs));
    }
    throw new Error(`etcd: no leader within ${leaderWaitMs} ms`);
  };
  let killed: EtcdMember | null = null;
  const kill = async (member: EtcdMember): Promise<void> => {
    const child = member.child;
    member.child = null;
    if (child === null) return;
    child.kill('SIGKILL');
    await exited(child);
  };
  try {
    await leader();
  } catch (error) {
    // Leave no etcd behind (it would outlive the benchmark process).
    transport.close();
    await Promise.all(members.map(kill));
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    name: 'etcd',
    // Not set on the command line: etcd's defaults (--election-timeout 1000, --heartbeat-interval 100), randomized up to twice.
    election: 'election 1000-2000 ms, heartbeat 100 ms: etcd defaults',
    put: (key, value) => transport.put(key, value),
    // A put of the same value is idempotent in etcd's data model for this benchmark's purpose.
    putRetrySafe: (key, value) => transport.put(key, value),
    get: (key) => transport.range(key),
    cpuGroups: () => ({ members: members.flatMap((m) => (m.child?.pid === undefined ? [] : [m.child.pid])) }),
    async killLeader() {
      killed = await leader();
      await kill(killed);
    },
    async restartKilled() {
      if (killed === null) return;
      start(killed);
      killed = null;
      await leader();
    },
    async stop() {
      transport.close();
      await Promise.all(members.map(kill));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function grpcTransport(members: readonly EtcdMember[]): EtcdTransport {
  const client = new EtcdGrpcClient(members.map((m) => ({ name: m.name, address: m.clientUrl.replace('http://', '') })));
  return {
    put: (key, value) => client.put(key, value),
    range: (key) => client.range(key),
    status: (member) => client.status(member.name),
    close: () => client.close(),
  };
}

/** etcd's JSON gateway: base64 keys and values, uint64 ids as decimal strings. */
function gatewayTransport(members: readonly EtcdMember[]): EtcdTransport {
  let next = 0;
  const post = async (path: string, body: unknown, member?: EtcdMember): Promise<Record<string, unknown>> => {
    // Like a client balancer: skip members known to be down.
    let target = member ?? (members[next++ % members.length] as EtcdMember);
    for (let tries = 0; member === undefined && target.child === null && tries < members.length; tries++) target = members[next++ % members.length] as EtcdMember;
    const response = await fetch(`${target.clientUrl}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(etcdClientLimits.callDeadlineMs) });
    if (!response.ok) throw new Error(`etcd gateway ${path} on ${target.name}: HTTP ${response.status}`);
    return (await response.json()) as Record<string, unknown>;
  };
  const b64 = (data: string | Uint8Array): string => Buffer.from(data).toString('base64');
  return {
    async put(key, value) {
      await post('/v3/kv/put', { key: b64(key), value: b64(value) });
    },
    async range(key) {
      await post('/v3/kv/range', { key: b64(key) });
    },
    async status(member) {
      const status = await post('/v3/maintenance/status', {}, member);
      const header = status['header'] as { member_id?: string } | undefined;
      return { memberId: header?.member_id ?? '0', leaderId: typeof status['leader'] === 'string' ? status['leader'] : '0' };
    },
    close: () => undefined,
  };
}
