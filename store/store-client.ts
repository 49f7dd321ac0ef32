/**
 * How everything outside a member talks to the store: finds the leader, follows NotLeader hints,
 * retries what is safe to retry with bounded, jittered backoff, and surfaces typed errors.
 *
 * Retry rules (the part that keeps data safe):
 * - NotLeader, NoQuorum, NoResponders, ProposalDropped: the request never entered the log, so a
 *   retry cannot apply it twice. Retried until the call's deadline.
 * - A write that timed out or got OutcomeUnknown may have applied. It is retried only when it
 *   carries a request id (the member then answers the first result instead of applying again);
 *   otherwise the caller gets OutcomeUnknownError and decides.
 * - Reads have no effect, so every failure is retried until the deadline.
 * - A client beside a member (`localView`) sends no write and no leader-only request while that
 *   member knows it has no leader and hears at most half of the voters: such a member is cut off
 *   (a partition, or a majority paused), and a request sent to a member it cannot hear would only
 *   wait out its deadline and end "outcome unknown", since that member may apply it when it comes
 *   back. Refused before sending, the request is NoQuorum ("not applied") at once; a call in
 *   which an earlier attempt may have applied still ends OutcomeUnknown.
 */
import type { Bus } from '../bus/transport.js';
import type { Clock } from '../bus/clock.js';
import type { Prng } from '../bus/prng.js';
import { BusTimeoutError, NoRespondersError } from '../bus/errors.js';
import { call } from '../bus/rpc.js';
import { StoreWatch, type WatchOptions } from './store-watch.js';
import { subjects } from '../bus/subjects.js';
import {
  NoQuorumError, NotLeaderError, OutcomeUnknownError, ProposalDroppedError, StoreStoppedError, storeErrorFactories,
} from './errors.js';
import type { ConfChange, MemberId } from './raft/types.js';
import type { Consistency, LeaseKeepAliveResponse, MemberStatus, RangeResponse, StoreRequest } from './protocol.js';
import type {
  Compare, DeleteRequest, KeyValue, PutRequest, RangeRequest, TxnOp, WriteCommand, WriteResult,
} from './mvcc/types.js';

export const storeClientLimits = {
  /** One attempt's reply deadline: longer than a member's own 2-election-timeout write deadline. */
  attemptTimeoutMs: 3_000,
  /** A whole call, retries included, fails after this unless the caller says otherwise. */
  callTimeoutMs: 10_000,
  /** Backoff doubles from the base to the max, with full jitter, between retries. */
  backoffBaseMs: 20,
  backoffMaxMs: 500,
  /** Retries of one call; with the backoff above this spans more than the call deadline. */
  attemptsMax: 64,
  /**
   * NoQuorum is retried only this long after the first one: enough to ride out an election (about
   * one election timeout), short enough that a cluster without a majority is reported at once
   * rather than after the whole call deadline.
   */
  noQuorumGraceMs: 1_500,
} as const;

export interface StoreClientOptions {
  readonly bus: Bus;
  readonly cluster: string;
  readonly members: readonly MemberId[];
  readonly clock: Clock;
  readonly random: Prng;
  readonly callTimeoutMs?: number;
  readonly attemptTimeoutMs?: number;
  /**
   * The member this client runs beside (an API server inside a member process). Reads and watches
   * go to it first: its local state answers cached reads without quorum, and a watch served by
   * the same process cannot outlive it. Other members are the fallback.
   */
  readonly local?: MemberId;
  /**
   * What the member beside this client knows right now, read in-process (its driver's status);
   * null while it has no view (not started). See the module comment for how it is used.
   */
  readonly localView?: () => LocalQuorumView | null;
  /**
   * The `local` member's own request handler, in this process (MemberService.handleLocal): a
   * request whose chosen target is `local` goes there instead of over the bus, with the same
   * deadline per attempt and every retry rule unchanged.
   */
  readonly localService?: (request: StoreRequest) => Promise<unknown>;
}

/** A member's own view of its cluster: enough to tell that it is cut off from a majority. */
export interface LocalQuorumView {
  /** The leader it follows (or itself); null while it knows none. */
  readonly leader: MemberId | null;
  /** Voters it heard from within an election timeout, itself included. */
  readonly reachable: number;
  /** Voters in its configuration; 0 while it has none yet (a joining member knows nothing). */
  readonly total: number;
}

export interface CallOptions {
  /** Overrides the client's whole-call deadline. */
  readonly timeoutMs?: number;
}

export interface WriteOptions extends CallOptions {
  /** Makes a write safe to retry after an unknown outcome (see the module comment). */
  readonly requestId?: string;
}

type Attempt = 'read' | 'write' | 'idempotentWrite' | 'leaderOnly';

export class StoreClient {
  private leaderGuess: MemberId | null = null;
  private seenRevision = 0;
  private readonly names;
  private readonly members: MemberId[];

  constructor(private readonly options: StoreClientOptions) {
    this.names = subjects(options.cluster);
    this.members = [...options.members];
  }

  setMembers(members: readonly MemberId[]): void {
    this.members.splice(0, this.members.length, ...members);
  }

  currentLeaderGuess(): MemberId | null {
    return this.leaderGuess;
  }

  async get(key: string, options: CallOptions & { consistency?: Consistency } = {}): Promise<KeyValue | null> {
    const response = await this.range({ key }, options);
    return response.result.kvs[0] ?? null;
  }

  /**
   * A serializable read asks its member to have applied what this client last saw written or read
   * linearizably (`minRevision`, a bounded wait there: store/revision-wait.ts), so a client reads
   * its own writes from a follower that has not applied them yet.
   */
  range(request: RangeRequest, options: CallOptions & { consistency?: Consistency; member?: MemberId } = {}): Promise<RangeResponse> {
    const consistency = options.consistency ?? 'linearizable';
    if (consistency === 'serializable') {
      const message: StoreRequest = this.seenRevision > 0 ? { type: 'range', request, consistency, minRevision: this.seenRevision } : { type: 'range', request, consistency };
      if (options.member !== undefined) return this.callMember(options.member, message, this.attemptTimeout());
      return this.send<RangeResponse>(message, 'read', options);
    }
    const message: StoreRequest = { type: 'range', request, consistency };
    const answer = options.member !== undefined ? this.callMember<RangeResponse>(options.member, message, this.attemptTimeout()) : this.send<RangeResponse>(message, 'leaderOnly', options);
    return answer.then((response) => this.saw(response?.result?.revision, response));
  }

  put(request: PutRequest, options: WriteOptions = {}): Promise<Extract<WriteResult, { type: 'put' }>> {
    return this.write({ type: 'put', request }, options) as Promise<Extract<WriteResult, { type: 'put' }>>;
  }

  delete(request: DeleteRequest, options: WriteOptions = {}): Promise<Extract<WriteResult, { type: 'delete' }>> {
    return this.write({ type: 'delete', request }, options) as Promise<Extract<WriteResult, { type: 'delete' }>>;
  }

  txn(compare: Compare[], success: TxnOp[], failure: TxnOp[], options: WriteOptions = {}): Promise<Extract<WriteResult, { type: 'txn' }>> {
    return this.write({ type: 'txn', request: { compare, success, failure } }, options) as Promise<Extract<WriteResult, { type: 'txn' }>>;
  }

  compact(revision: number, options: WriteOptions = {}): Promise<WriteResult> {
    return this.write({ type: 'compact', revision }, options);
  }

  leaseGrant(id: number, ttlMs: number, options: WriteOptions = {}): Promise<WriteResult> {
    return this.write({ type: 'leaseGrant', id, ttlMs }, options);
  }

  leaseRevoke(id: number, options: WriteOptions = {}): Promise<WriteResult> {
    return this.write({ type: 'leaseRevoke', id }, options);
  }

  leaseKeepAlive(id: number, options: CallOptions = {}): Promise<LeaseKeepAliveResponse> {
    return this.send({ type: 'leaseKeepAlive', id }, 'leaderOnly', options);
  }

  write(command: WriteCommand, options: WriteOptions = {}): Promise<WriteResult> {
    const requestId = options.requestId ?? null;
    return this.send<WriteResult>({ type: 'write', command, requestId }, requestId === null ? 'write' : 'idempotentWrite', options)
      .then((result) => this.saw(result?.revision, result));
  }

  /** The highest store revision this client was answered at by a write or a linearizable read. */
  lastSeenRevision(): number {
    return this.seenRevision;
  }

  status(member: MemberId, options: CallOptions = {}): Promise<MemberStatus> {
    return this.callMember(member, { type: 'status' }, options.timeoutMs ?? this.attemptTimeout());
  }

  changeMembership(change: ConfChange, options: CallOptions = {}): Promise<void> {
    // A repeated membership change is refused by the leader (member exists / unknown), so a retry
    // after an unknown outcome cannot change membership twice.
    return this.send({ type: 'memberChange', change }, 'idempotentWrite', options);
  }

  transferLeadership(to: MemberId, options: CallOptions = {}): Promise<void> {
    return this.send({ type: 'transferLeadership', to }, 'leaderOnly', options);
  }

  /** Starts a watch on any member; it moves to another member by itself if that one goes away. */
  async watch(options: WatchOptions): Promise<StoreWatch> {
    const watch = new StoreWatch(this, this.options.bus, this.options.clock, this.options.random.fork(), () => this.localFirst(), options);
    await watch.start();
    return watch;
  }

  /** Low-level: one request to one named member, no retries. */
  callMember<T>(member: MemberId, request: StoreRequest, timeoutMs: number): Promise<T> {
    const { localService, local } = this.options;
    if (localService !== undefined && member === local) return this.callLocal<T>(localService, request, timeoutMs);
    return call<T>(this.options.bus, this.names.store(member), request, { timeoutMs, errorFactories: storeErrorFactories });
  }

  /**
   * An in-process attempt keeps the bus attempt's deadline: without an answer by then it fails as
   * a bus timeout would (BusTimeoutError, an unknown outcome for a write), so the retry rules see
   * the same thing wherever the member is.
   */
  private callLocal<T>(localService: (request: StoreRequest) => Promise<unknown>, request: StoreRequest, timeoutMs: number): Promise<T> {
    const { clock, local } = this.options;
    return new Promise<T>((resolve, reject) => {
      const timer = clock.setTimeout(() => reject(new BusTimeoutError(this.names.store(local as MemberId), timeoutMs)), timeoutMs);
      localService(request).then(
        (value) => {
          clock.clearTimeout(timer);
          resolve(value as T);
        },
        (error: unknown) => {
          clock.clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  private async send<T>(request: StoreRequest, attempt: Attempt, options: CallOptions): Promise<T> {
    const clock = this.options.clock;
    const deadline = clock.now() + (options.timeoutMs ?? this.options.callTimeoutMs ?? storeClientLimits.callTimeoutMs);
    // Built only when the call fails: an Error captures a stack, costly on every request.
    let lastError: Error | null = null;
    let backoffMs: number = storeClientLimits.backoffBaseMs;
    let firstNoQuorumMs: number | null = null;
    // Members that failed this call: the next attempt goes elsewhere, and a call that heard "no
    // majority" from one member fails at once when every other member has failed too and none
    // said it hears a majority (then an election may be under way, worth the grace period).
    const failed = new Set<MemberId>();
    let minority: NoQuorumError | null = null;
    // The last "no quorum" heard: a better final answer than a dead member's silence.
    let quorumError: NoQuorumError | null = null;
    let electionPossible = false;
    // Once an attempt of a write may have applied, no later refusal makes the call "not applied".
    let mayHaveApplied = false;
    const refusal = (error: NoQuorumError): Error => (mayHaveApplied ? new OutcomeUnknownError(`an earlier attempt may have applied; then: ${error.message}`) : error);
    for (let attemptNumber = 0; attemptNumber < storeClientLimits.attemptsMax; attemptNumber++) {
      const remaining = deadline - clock.now();
      // Below a millisecond nothing can be answered (and nats refuses sub-millisecond timeouts).
      if (remaining < 1) break;
      const cutOff = attempt === 'read' ? null : this.localCutOff();
      if (cutOff !== null) throw refusal(cutOff);
      const member = this.pickMember(attempt, attemptNumber, failed);
      try {
        const result = await this.callMember<T>(member, request, Math.min(remaining, this.attemptTimeout()));
        if (attempt !== 'read') this.leaderGuess = member;
        return result;
      } catch (error) {
        lastError = error as Error;
        failed.add(member);
        if (attempt !== 'read' && isUnknownOutcome(error)) mayHaveApplied = true;
        const decision = this.classify(error, attempt);
        if (decision.kind === 'fail') throw decision.error;
        if (decision.kind === 'redirect') {
          this.leaderGuess = decision.to;
          continue;
        }
        // A member that hears no majority is not in an election that could end soon: unless
        // another member may still see one, the cluster has no quorum and the caller hears it now.
        if (error instanceof NoQuorumError) {
          quorumError = error;
          if (error.reachable * 2 <= error.total) minority = error;
          else electionPossible = true;
        }
        if (minority !== null && !electionPossible) {
          if (failed.size >= this.members.length) throw refusal(minority);
          if (attempt !== 'read') this.leaderGuess = null;
          continue;
        }
        if (error instanceof NoQuorumError) {
          firstNoQuorumMs ??= clock.now();
          if (clock.now() - firstNoQuorumMs >= storeClientLimits.noQuorumGraceMs) throw refusal(error);
        }
        if (attempt !== 'read') this.leaderGuess = null;
        await this.pause(Math.min(backoffMs, Math.max(0, deadline - clock.now())));
        backoffMs = Math.min(storeClientLimits.backoffMaxMs, backoffMs * 2);
      }
    }
    if (attempt !== 'read' && (mayHaveApplied || isUnknownOutcome(lastError))) {
      throw lastError instanceof OutcomeUnknownError ? lastError : new OutcomeUnknownError('no reply before the deadline');
    }
    throw quorumError ?? lastError ?? new NoQuorumError(0, this.members.length);
  }

  private classify(error: unknown, attempt: Attempt): { kind: 'fail'; error: Error } | { kind: 'redirect'; to: MemberId } | { kind: 'retry' } {
    if (error instanceof NotLeaderError) {
      return error.leaderHint !== null && this.members.includes(error.leaderHint) ? { kind: 'redirect', to: error.leaderHint } : { kind: 'retry' };
    }
    if (error instanceof NoQuorumError || error instanceof NoRespondersError || error instanceof ProposalDroppedError || error instanceof StoreStoppedError) {
      return { kind: 'retry' };
    }
    if (isUnknownOutcome(error)) {
      // A write without a request id must not be sent again: it may already have applied.
      if (attempt === 'write') {
        return { kind: 'fail', error: error instanceof OutcomeUnknownError ? error : new OutcomeUnknownError('no reply from the member in time') };
      }
      return { kind: 'retry' };
    }
    return { kind: 'fail', error: error instanceof Error ? error : new Error(String(error)) };
  }

  /** Answers from fakes and old members may lack a revision: they teach nothing. */
  private saw<T>(revision: number | undefined, answer: T): T {
    if (revision !== undefined && revision > this.seenRevision) this.seenRevision = revision;
    return answer;
  }

  private pickMember(attempt: Attempt, attemptNumber: number, failed: ReadonlySet<MemberId>): MemberId {
    if (attempt !== 'read' && this.leaderGuess !== null && this.members.includes(this.leaderGuess)) return this.leaderGuess;
    if (this.members.length === 0) throw new NoQuorumError(0, 0, 'the store client knows no members');
    const local = this.options.local;
    if (attempt === 'read' && attemptNumber === 0 && local !== undefined && this.members.includes(local)) return local;
    const untried = this.members.filter((id) => !failed.has(id));
    const pool = untried.length > 0 ? untried : this.members;
    return pool[this.options.random.int(pool.length)] as MemberId;
  }

  /** NoQuorum when the member beside this client has no leader and hears no majority; else null. */
  private localCutOff(): NoQuorumError | null {
    const view = this.options.localView?.() ?? null;
    if (view === null || view.leader !== null || view.total === 0 || view.reachable * 2 > view.total) return null;
    return new NoQuorumError(view.reachable, view.total);
  }

  private localFirst(): MemberId[] {
    const local = this.options.local;
    if (local === undefined || !this.members.includes(local)) return this.members;
    return [local, ...this.members.filter((id) => id !== local)];
  }

  private attemptTimeout(): number {
    return this.options.attemptTimeoutMs ?? storeClientLimits.attemptTimeoutMs;
  }

  private pause(maxMs: number): Promise<void> {
    const delay = Math.floor(this.options.random.float() * maxMs);
    return new Promise((resolve) => this.options.clock.setTimeout(resolve, delay));
  }
}

function isUnknownOutcome(error: unknown): boolean {
  return error instanceof OutcomeUnknownError || error instanceof BusTimeoutError;
}

