/**
 * Leases under leader changes. A lease client grants a few leases (the leader picks the id, the
 * request carries a request id and is retried like any write), sometimes moving leadership right
 * after the grant so the grant commits in one term and applies in the next. The checker watches
 * the applied lease table and holds two properties:
 * - one grant, one lease: each grant asks for a TTL no other grant uses, so two leases with the
 *   same TTL are one grant applied twice (a retry that the request id should have absorbed);
 * - no orphans: a lease must be revoked within TTL + 2 election timeouts of the later of its grant
 *   and the last leadership change (a new leader restarts each timer from at most the TTL). The
 *   check runs once the cluster is healed and has had a stable leader for that long.
 */
import { BusTimeoutError, type Prng } from '../../bus/index.js';
import { OutcomeUnknownError, StoreClient } from '../../store/index.js';
import type { SimCluster } from './sim-cluster.js';
import { notAppliedCodes } from './workload.js';

export const leaseCheckLimits = {
  /** The store's shortest TTL (leaseLimits.ttlMsMin); grants use this plus their number. */
  ttlBaseMs: 2_000,
} as const;

interface SeenLease {
  readonly ttlMs: number;
  readonly firstSeenMs: number;
}

export class LeaseChecker {
  private readonly seen = new Map<number, SeenLease>();
  private readonly idsByTtl = new Map<number, number>();
  private lastLeaderChangeMs = 0;
  private grantNumber = 0;
  granted = 0;
  readonly unexpected: string[] = [];
  private readonly client: StoreClient;

  constructor(private readonly cluster: SimCluster, private readonly random: Prng, private readonly electionTimeoutMs: number, readonly enabled: boolean) {
    this.client = new StoreClient({
      bus: cluster.network.connect('leases'), cluster: cluster.cluster, members: cluster.memberIds,
      clock: cluster.clock, random: random.fork(), callTimeoutMs: 2_000, attemptTimeoutMs: 1_000,
    });
    cluster.onMemberStarted((_id, driver) => {
      driver.subscribe({ roleChanged: (role) => {
        if (role === 'leader') this.lastLeaderChangeMs = cluster.clock.now();
      } });
    });
  }

  /** Grants one lease; with `thenTransfer`, asks the leader to hand over leadership at once. */
  grant(thenTransfer: boolean): void {
    void this.grantAndWait();
    if (thenTransfer) this.transferSoon();
  }

  /** Grants one lease and waits for the answer (recorded, never thrown). */
  grantAndWait(): Promise<void> {
    const number = ++this.grantNumber;
    const ttlMs = leaseCheckLimits.ttlBaseMs + number;
    return this.client.leaseGrant(0, ttlMs, { requestId: `lease-grant-${number}` }).then(
      () => {
        this.granted++;
      },
      (error: unknown) => {
        if (error instanceof OutcomeUnknownError || error instanceof BusTimeoutError) return;
        const code = (error as { code?: unknown }).code;
        if (typeof code !== 'string' || !notAppliedCodes.has(code)) this.unexpected.push(`lease grant: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      },
    );
  }

  private transferSoon(): void {
    this.cluster.clock.setTimeout(() => {
      const leader = this.cluster.leader();
      const voters = this.cluster.conf()?.voters.filter((id) => id !== leader) ?? [];
      if (voters.length > 0) void this.client.transferLeadership(this.random.pick(voters)).catch(() => undefined);
    }, this.random.between(0, 3));
  }

  /** After each step: records the leases the most advanced member holds. */
  observe(): void {
    let best: { applied: number; leases: readonly { id: number; ttlMs: number }[] } | null = null;
    for (const id of this.cluster.memberIds) {
      const driver = this.cluster.driver(id);
      if (driver === null) continue;
      const applied = driver.raftStatus().applied;
      if (best === null || applied > best.applied) best = { applied, leases: driver.mvcc.leases() };
    }
    for (const lease of best?.leases ?? []) {
      if (this.seen.has(lease.id)) continue;
      this.seen.set(lease.id, { ttlMs: lease.ttlMs, firstSeenMs: this.cluster.clock.now() });
      const other = this.idsByTtl.get(lease.ttlMs);
      if (other !== undefined) throw new LeaseViolation(`one grant made two leases: ${other} and ${lease.id} both have TTL ${lease.ttlMs} ms (a retried grant applied twice)`);
      this.idsByTtl.set(lease.ttlMs, lease.id);
    }
  }

  /** When every lease seen must have expired if the cluster keeps its leader. */
  settledByMs(): number {
    let latest = 0;
    for (const lease of this.seen.values()) latest = Math.max(latest, this.deadline(lease));
    return latest;
  }

  /** Leases still held (by every converged member) past their deadline. */
  checkNoOrphans(leases: readonly { id: number }[]): void {
    const now = this.cluster.clock.now();
    for (const { id } of leases) {
      const lease = this.seen.get(id);
      if (lease === undefined) continue;
      const deadline = this.deadline(lease);
      if (now > deadline) {
        throw new LeaseViolation(`orphan lease ${id} (TTL ${lease.ttlMs} ms, applied by ${lease.firstSeenMs} ms, last leader change at ${this.lastLeaderChangeMs} ms) still held at ${now} ms, past its deadline ${deadline} ms`);
      }
    }
  }

  seenCount(): number {
    return this.seen.size;
  }

  private deadline(lease: SeenLease): number {
    return Math.max(lease.firstSeenMs, this.lastLeaderChangeMs) + lease.ttlMs + 2 * this.electionTimeoutMs;
  }
}

export class LeaseViolation extends Error {
  override readonly name = 'LeaseViolation';
}
