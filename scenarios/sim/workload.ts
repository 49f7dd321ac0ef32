/**
 * Simulated clients: each loops issuing register operations (put, get, compare-and-set, delete)
 * on a handful of keys through the real StoreClient, and records every operation with its invoke
 * and completion time and outcome for the linearizability check.
 *
 * - Writes carry a request id (most of them) and the client asks again with the same id, on any
 *   member, when the outcome was unknown: the member must answer the first result, never apply
 *   twice. Writes without an id are never repeated after an unknown outcome.
 * - Reads go to the leader (through the client's leader search) or, as "follower reads", straight
 *   to one named member, which must run ReadIndex through the leader.
 * - Freshness: a linearizable read must be served at a revision no older than any write
 *   acknowledged before it was invoked (stricter than values: it also sees a stale read of a key
 *   that did not change).
 * - Outcomes: errors that say "not applied" (NoQuorum, NotLeader, ProposalDropped, StoreStopped,
 *   NoResponders, StorageFull) are recorded as failed; timeouts and OutcomeUnknown as unknown,
 *   which the checker lets happen at any time after the invoke, or never. Any other error is
 *   unexpected and fails the seed, as does an operation kind that never succeeded.
 */
import { BusTimeoutError, type Bus, type Clock, type Prng } from '../../bus/index.js';
import { NoQuorumError, OutcomeUnknownError, StoreClient, storeClientLimits, type RangeResponse, type WriteResult } from '../../store/index.js';
import { HistoryRecorder, type Operation } from '../history/index.js';

/** Error codes that say "this request did not apply" (or, for reads, simply "no answer"). */
export const notAppliedCodes: ReadonlySet<string> = new Set([
  'noQuorum', 'notLeader', 'proposalDropped', 'storeStopped', 'noResponders', 'storageFull', 'busClosed',
]);

export const operationKinds = ['put', 'get', 'followerGet', 'cas', 'delete'] as const;
export type OperationKind = (typeof operationKinds)[number];

/**
 * A deliberately broken client, to prove the checkers catch what they claim to:
 * - ackWithoutApply: every third put is acknowledged without being sent;
 * - staleRead: reads are served by any member from its own state (serializable), possibly stale;
 * - throwingReads: every read throws an error the store never sends;
 * - refusedReads: every read is refused as the store refuses without quorum (NoQuorum).
 */
export type InjectedBug = 'ackWithoutApply' | 'staleRead' | 'throwingReads' | 'refusedReads';

export interface WorkloadOptions {
  readonly clients: number;
  readonly keys: number;
  readonly cluster: string;
  readonly members: readonly string[];
  readonly clock: Clock;
  readonly random: Prng;
  readonly connect: (name: string) => Bus;
  /** Members a follower read may go to right now. */
  readonly readTargets: () => readonly string[];
  /** Pause between one client's operations, drawn uniformly. */
  readonly thinkMs: { readonly min: number; readonly max: number };
  readonly bug?: InjectedBug;
}

export const workloadLimits = {
  /** Asks with the same request id after an unknown outcome: the client's retry across members. */
  sameIdRetriesMax: 2,
  /** Unexpected errors kept for the report (all of them fail the seed). */
  unexpectedKeptMax: 5,
  /** Tries of one operation kind after healing (each bounded by the client's call deadline). */
  healedAttemptsMax: 5,
} as const;

export class Workload {
  readonly history: HistoryRecorder;
  private running = false;
  private sequence = 0;
  private bugCounter = 0;
  private readonly clients: { name: string; client: StoreClient; random: Prng }[] = [];
  completed = 0;
  succeeded = 0;
  readonly successes = new Map<OperationKind, number>(operationKinds.map((kind) => [kind, 0]));
  readonly unexpected: string[] = [];
  unexpectedCount = 0;
  /** Linearizable reads served at a revision older than a write acknowledged before they started. */
  readonly staleReads: string[] = [];
  private acknowledgedRevision = 0;
  /** Operations asked again with the same request id. */
  retriedWithSameId = 0;

  constructor(private readonly options: WorkloadOptions) {
    this.history = new HistoryRecorder(() => options.clock.now());
  }

  start(): void {
    this.running = true;
    for (let i = 0; i < this.options.clients; i++) {
      const name = `client${i + 1}`;
      const random = this.options.random.fork();
      const client = new StoreClient({
        bus: this.options.connect(name),
        cluster: this.options.cluster,
        members: this.options.members,
        clock: this.options.clock,
        random: random.fork(),
        callTimeoutMs: 2_000,
        attemptTimeoutMs: 1_000,
      });
      this.clients.push({ name, client, random });
      void this.loop(name, client, random);
    }
  }

  /** Stops issuing new operations; in-flight ones finish or time out on their own. */
  stop(): void {
    this.running = false;
  }

  /**
   * After healing: each kind that has not succeeded yet is tried by the first client until it
   * does or the attempts run out; follower reads go to members of the configuration.
   */
  async oneOfEach(members: readonly string[]): Promise<void> {
    const first = this.clients[0];
    if (first === undefined) return;
    for (const kind of operationKinds) {
      for (let attempt = 0; attempt < workloadLimits.healedAttemptsMax && (this.successes.get(kind) ?? 0) === 0; attempt++) {
        await this.perform(first.name, first.client, first.random, kind, kind === 'followerGet' ? first.random.pick(members) : undefined);
      }
    }
  }

  /** Follower reads sent to `member` right now, from every client: what a restart then interrupts. */
  readBurst(member: string): void {
    for (const { name, client, random } of this.clients) void this.perform(name, client, random, 'followerGet', member);
  }

  missingKinds(): OperationKind[] {
    return operationKinds.filter((kind) => (this.successes.get(kind) ?? 0) === 0);
  }

  private async loop(name: string, client: StoreClient, random: Prng): Promise<void> {
    while (this.running) {
      await this.perform(name, client, random, this.chooseKind(random));
      await this.pause(random.between(this.options.thinkMs.min, this.options.thinkMs.max));
    }
  }

  private chooseKind(random: Prng): OperationKind {
    const roll = random.int(20);
    return roll < 7 ? 'put' : roll < 10 ? 'get' : roll < 13 ? 'followerGet' : roll < 18 ? 'cas' : 'delete';
  }

  private async perform(name: string, client: StoreClient, random: Prng, kind: OperationKind, member?: string): Promise<void> {
    const key = `k${random.int(this.options.keys)}`;
    const value = `${name}-${++this.sequence}`;
    const operation: Operation =
      kind === 'put' ? { type: 'put', key, value }
      : kind === 'get' || kind === 'followerGet' ? { type: 'get', key }
      : kind === 'cas' ? { type: 'cas', key, expected: random.chance(0.3) ? null : `client${random.between(1, this.options.clients)}-${random.int(this.sequence + 1)}`, value }
      : { type: 'delete', key };
    const requestId = kind !== 'get' && kind !== 'followerGet' && random.chance(0.8) ? `${name}-op${this.sequence}` : undefined;
    const target = kind === 'followerGet' ? member ?? pickOrNull(this.options.readTargets(), random) : null;
    const handle = this.history.invoke(name, operation);
    // Every write acknowledged before this read was invoked must be visible to it: its revision at least.
    const floor = this.acknowledgedRevision;
    let retries = 0;
    for (;;) {
      try {
        const result = await this.execute(client, operation, requestId, target);
        handle.ok(result.value);
        if (operation.type === 'get') this.checkFresh(kind, target, result.revision, floor);
        else this.acknowledgedRevision = Math.max(this.acknowledgedRevision, result.revision);
        this.succeeded++;
        this.successes.set(kind, (this.successes.get(kind) ?? 0) + 1);
        break;
      } catch (error) {
        const unknown = error instanceof OutcomeUnknownError || error instanceof BusTimeoutError;
        if (unknown && requestId !== undefined && retries < workloadLimits.sameIdRetriesMax) {
          retries++;
          this.retriedWithSameId++;
          continue;
        }
        // A refusal of a later attempt says nothing about an earlier one that may have applied.
        if (unknown || retries > 0) handle.unknown();
        else {
          handle.fail();
          const code = (error as { code?: unknown }).code;
          if (typeof code !== 'string' || !notAppliedCodes.has(code)) this.recordUnexpected(kind, error);
        }
        break;
      }
    }
    this.completed++;
  }

  private checkFresh(kind: OperationKind, member: string | null, revision: number, floor: number): void {
    if (revision >= floor || this.staleReads.length >= workloadLimits.unexpectedKeptMax) return;
    this.staleReads.push(`${kind}${member === null ? '' : ` on ${member}`} at ${this.options.clock.now()} ms served revision ${revision}, but revision ${floor} was acknowledged before it was invoked`);
  }

  private recordUnexpected(kind: OperationKind, error: unknown): void {
    this.unexpectedCount++;
    if (this.unexpected.length < workloadLimits.unexpectedKeptMax) {
      this.unexpected.push(`${kind} at ${this.options.clock.now()} ms: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
  }

  /** Runs one operation; `revision` is the store revision its answer carried (0 when not sent). */
  private async execute(client: StoreClient, operation: Operation, requestId: string | undefined, member: string | null): Promise<{ value: string | boolean | null | undefined; revision: number }> {
    const encoder = new TextEncoder();
    const ids = requestId === undefined ? {} : { requestId };
    switch (operation.type) {
      case 'put': {
        if (this.options.bug === 'ackWithoutApply' && ++this.bugCounter % 3 === 0) return { value: undefined, revision: 0 };
        const result = await client.put({ key: operation.key, value: encoder.encode(operation.value) }, ids);
        return { value: undefined, revision: result.revision };
      }
      case 'get': {
        const response = await this.read(client, operation.key, member);
        const kv = response.result.kvs[0];
        return { value: kv === undefined ? null : new TextDecoder().decode(kv.value), revision: response.result.revision };
      }
      case 'cas': {
        const compare = operation.expected === null
          ? { key: operation.key, target: 'version' as const, op: 'equal' as const, value: 0 }
          : { key: operation.key, target: 'value' as const, op: 'equal' as const, value: encoder.encode(operation.expected) };
        const result: Extract<WriteResult, { type: 'txn' }> = await client.txn([compare], [{ type: 'put', request: { key: operation.key, value: encoder.encode(operation.value) } }], [], ids);
        return { value: result.succeeded, revision: result.revision };
      }
      case 'delete': {
        const result = await client.delete({ key: operation.key }, ids);
        return { value: undefined, revision: result.revision };
      }
    }
  }

  private read(client: StoreClient, key: string, member: string | null): Promise<RangeResponse> {
    if (this.options.bug === 'throwingReads') return Promise.reject(new Error('injected: this client cannot read'));
    if (this.options.bug === 'refusedReads') return Promise.reject(new NoQuorumError(0, 3, 'injected: every read refused'));
    if (this.options.bug === 'staleRead') {
      const targets = this.options.readTargets();
      // Straight to one member, without the client's own revision (a read that may trail the client's writes).
      const target = targets[this.bugCounter++ % Math.max(1, targets.length)] ?? 's1';
      return client.callMember<RangeResponse>(target, { type: 'range', request: { key }, consistency: 'serializable' }, storeClientLimits.attemptTimeoutMs);
    }
    if (member !== null) return client.range({ key }, { member });
    return client.range({ key });
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.options.clock.setTimeout(resolve, ms));
  }
}

function pickOrNull(items: readonly string[], random: Prng): string | null {
  return items.length === 0 ? null : random.pick(items);
}
