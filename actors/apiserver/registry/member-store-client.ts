/**
 * The store client of an API server that runs inside a member process: requests addressed to
 * that member are answered in process instead of over NATS, everything else (other members,
 * retries, leader hints, deadlines) is the ordinary StoreClient's.
 *
 * Decision: reads to this member call its driver's `read`, which is exactly what the member's bus
 * service does for a `range` request (store/member-service.ts): same consistency, same typed
 * errors, values copied out of the store (store/mvcc/records.ts), so nothing changes but the cost.
 * A create used to pay three such reads (namespace for admission, quotas, namespace for the
 * write's guard), each a NATS round trip with two msgpack codecs and two NATS deliveries.
 *
 * Writes go in process only through `local.handle`, the member's own request handler (the one its
 * bus service runs: request checks, the space alarm's admission, then the driver); without it they
 * keep going over NATS. With it, reads go through it too. Watches and leases always use the bus
 * (a watch's events arrive on a subscription).
 */
import type { StoreRequest } from '../../../store/protocol.js';
import { StoreClient, type MemberId, type RaftDriver, type StoreClientOptions } from '../../../store/index.js';

export interface LocalMember {
  /** This member's id: only requests addressed to it are answered in process. */
  readonly id: MemberId;
  /** Its driver once started; null before (then the bus answers). */
  readonly driver: () => RaftDriver | null;
  /** The member's own request handler (MemberService's, minus the bus), when the member exposes it. */
  readonly handle?: (request: StoreRequest) => Promise<unknown>;
}

export class MemberStoreClient extends StoreClient {
  constructor(options: StoreClientOptions, private readonly member: LocalMember) {
    super({ ...options, local: member.id });
  }

  override callMember<T>(member: MemberId, request: StoreRequest, timeoutMs: number): Promise<T> {
    if (member === this.member.id) {
      const driver = this.member.driver();
      const inProcess = request.type === 'range' || request.type === 'write';
      if (driver !== null && inProcess && this.member.handle !== undefined) return this.member.handle(request) as Promise<T>;
      if (driver !== null && request.type === 'range') return driver.read(request.request, request.consistency) as Promise<T>;
    }
    return super.callMember(member, request, timeoutMs);
  }
}
