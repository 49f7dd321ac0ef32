/** The benchmark's adapter for a 3-member kubus store: real processes on loopback (LocalCluster). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { LocalCluster } from '../topology/local-processes.js';
import type { StoreClient } from '../../store/index.js';
import type { BenchTarget } from './workload.js';

export async function startKubusTarget(): Promise<BenchTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-bench-'));
  const cluster = new LocalCluster({ dir, members: 3 });
  await cluster.start();
  await cluster.waitForLeader({ timeoutMs: 30_000 });
  const client: StoreClient = await cluster.client();
  let killed: string | null = null;
  return {
    name: 'kubus',
    async put(key, value) {
      // Like etcd's client: a plain put, no request id (that would add a dedup record per write).
      await client.put({ key, value });
    },
    async putRetrySafe(key, value) {
      // A request id makes the write safe to retry across a failover.
      await client.put({ key, value }, { requestId: randomUUID() });
    },
    async get(key) {
      await client.get(key);
    },
    async killLeader() {
      killed = await cluster.waitForLeader({ timeoutMs: 30_000 });
      await cluster.killAndWait(killed);
    },
    async restartKilled() {
      if (killed === null) return;
      await cluster.restart(killed);
      await cluster.waitForLeader({ timeoutMs: 30_000 });
      killed = null;
    },
    async stop() {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
