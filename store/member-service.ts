/**
 * Answers store clients on `kubus.<cluster>.store.<member>`: reads, writes, leases, watches,
 * status and membership changes, each through the driver. Bounded: at most `requestsInFlightMax`
 * requests are worked on at once and `requestsPendingMax` wait; beyond that requests are dropped
 * and the client's deadline turns that into a retry elsewhere.
 */
import type { Bus } from '../bus/transport.js';
import type { Clock } from '../bus/clock.js';
import type { Prng } from '../bus/prng.js';
import { call, serve, type Server } from '../bus/rpc.js';
import { subjects } from '../bus/subjects.js';
import { storeErrorFactories } from './errors.js';
import type { Backend } from './backend.js';
import { SpaceAlarm } from './space-alarm.js';
import type { RaftDriver } from './raft-driver.js';
import { LeaseScheduler } from './lease-scheduler.js';
import { WatchService } from './watch-service.js';
import type { MemberStatus, StoreRequest } from './protocol.js';
import { checkStoreRequest } from './request-check.js';
import { RevisionWaits } from './revision-wait.js';

export const memberServiceLimits = {
  /** Requests worked on at once: enough to keep a pipeline of proposals per Ready. */
  requestsInFlightMax: 1_024,
  /** Requests queued beyond that before new ones are dropped. */
  requestsPendingMax: 8_192,
  /** A member's own request to the leader (its space alarm): a write's deadline at the leader is two election timeouts. */
  forwardTimeoutMs: 3_000,
} as const;

export interface MemberServiceOptions {
  readonly driver: RaftDriver;
  readonly bus: Bus;
  readonly cluster: string;
  readonly clock: Clock;
  readonly random: Prng;
  /** The member's disk: its space usage and quota. */
  readonly backend: Backend;
}

export class MemberService {
  private server: Server | null = null;
  private readonly leases: LeaseScheduler;
  private readonly watches: WatchService;
  private readonly space: SpaceAlarm;
  private readonly revisionWaits: RevisionWaits;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly options: MemberServiceOptions) {
    this.leases = new LeaseScheduler(options.driver, options.clock, options.random);
    this.watches = new WatchService({ driver: options.driver, bus: options.bus, clock: options.clock });
    this.revisionWaits = new RevisionWaits(options.driver, options.clock);
    this.space = new SpaceAlarm({
      self: options.driver.status().id,
      driver: options.driver,
      clock: options.clock,
      space: () => options.backend.space(),
      forward: (leader, command) =>
        call(options.bus, subjects(options.cluster).store(leader), { type: 'write', command, requestId: null } satisfies StoreRequest, {
          timeoutMs: memberServiceLimits.forwardTimeoutMs,
          errorFactories: storeErrorFactories,
        }),
    });
  }

  start(): void {
    const { bus, cluster, driver } = this.options;
    this.unsubscribe = driver.subscribe({ roleChanged: (role) => this.leases.onRoleChanged(role === 'leader') });
    this.leases.onRoleChanged(driver.isLeader());
    this.watches.start();
    this.space.start();
    this.revisionWaits.start();
    this.server = serve(bus, subjects(cluster).store(driver.status().id), (request) => this.handle(request), {
      pendingMax: memberServiceLimits.requestsPendingMax,
      concurrencyMax: memberServiceLimits.requestsInFlightMax,
    });
  }

  tick(): void {
    this.leases.tick();
    this.watches.tick();
    this.space.tick();
    this.revisionWaits.tick();
  }

  stop(): void {
    this.server?.stop();
    this.server = null;
    this.unsubscribe?.();
    this.watches.stop();
    this.space.stop();
    this.revisionWaits.stop();
  }

  /**
   * The same answer the bus path gives, for a caller in this process (the API beside this member):
   * the same checks and space admission, without the NATS round trip. Failures are the typed
   * errors themselves, not wire errors. The answer may share objects with this member's state:
   * the caller must not change it (nor the request's buffers once sent).
   */
  handleLocal(request: StoreRequest): Promise<unknown> {
    return this.handle(request);
  }

  /**
   * Every request is checked whole (request-check.ts) before any part of it reaches the driver,
   * the watch table or the lease scheduler: a malformed one is answered InvalidRequestFieldError
   * and leaves nothing behind.
   */
  private async handle(message: unknown): Promise<unknown> {
    const { driver } = this.options;
    const request = checkStoreRequest(message);
    switch (request.type) {
      case 'range':
        if (request.consistency === 'serializable' && request.minRevision !== undefined && request.minRevision > 0) await this.revisionWaits.until(request.minRevision);
        return driver.read(request.request, request.consistency);
      case 'write': {
        // A client may leave the id out rather than send null; both mean "no idempotency key".
        const requestId = request.requestId ?? null;
        this.space.admit(request.command, requestId);
        if (request.command.type === 'leaseGrant') return this.leases.grant(request.command.id, request.command.ttlMs, requestId);
        return driver.write(request.command, requestId);
      }
      case 'leaseKeepAlive':
        return this.leases.keepAlive(request.id);
      case 'watchCreate':
        // From a past revision: first catch up with what the cluster committed (a compaction
        // acknowledged before this request must answer Compacted, not a watch a lagging follower
        // accepted). Without a quorum the member's own state still serves it, as before.
        if (request.watch.startRevision > 0) await driver.readBarrier().catch(() => undefined);
        return this.watches.create(request.watch);
      case 'watchRenew':
        return this.watches.renew(request.watchIds);
      case 'watchCancel':
        return this.watches.cancel(request.watchId);
      case 'status':
        return this.status();
      case 'memberChange':
        return driver.changeMembership(request.change);
      case 'transferLeadership':
        return driver.transferLeadership(request.to);
    }
  }

  private status(): MemberStatus {
    const status = this.options.driver.status();
    const space = this.options.backend.space();
    return {
      id: status.id, role: status.role, leader: status.leader, term: status.term, commitIndex: status.commitIndex,
      appliedIndex: status.appliedIndex, snapshotIndex: status.snapshotIndex, lastIndex: status.lastIndex,
      revision: status.revision, compactRevision: status.compactRevision, conf: status.conf,
      reachable: status.reachable, writable: status.writable, dbSizeBytes: space.usedBytes, quotaBytes: space.quotaBytes,
      alarms: this.options.driver.mvcc.alarms(),
    };
  }
}
