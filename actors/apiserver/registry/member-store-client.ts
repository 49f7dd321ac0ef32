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
 * Writes go in process only through `local.handle`, the member's own request handler
 * (MemberService.handleLocal: request checks, the space alarm's admission, then the driver), which
 * the StoreClient then uses for every request to this member (its `localService`); without it
 * writes keep going over NATS.
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
    super({ ...options, local: member.id, ...(member.handle !== undefined ? { localService: member.handle } : {}) });
  }

  override callMember<T>(member: MemberId, request: StoreRequest, timeoutMs: number): Promise<T> {
    // Without the member's handler: its reads still skip the bus (the handler would do just this for a range).
    const driver = member === this.member.id && this.member.handle === undefined ? this.member.driver() : null;
    if (driver !== null && request.type === 'range') return driver.read(request.request, request.consistency) as Promise<T>;
    return super.callMember(member, request, timeoutMs);
  }
}
