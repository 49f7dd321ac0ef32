/**
 * ReadIndex bookkeeping on the leader (Raft thesis §6.4): a read records the commit index, then a
 * heartbeat round tagged with the read's context must be acknowledged by a quorum before the read
 * may be served at that index. An acknowledgement for a later read also confirms every earlier one,
 * so requests are released in order.
 *
 * Decision: a context names exactly one read. The driver makes contexts unique across restarts of
 * a member, and a context already held here is the same read delivered twice by the network: it is
 * not added again, so an acknowledgement of a context matches one read, never an older namesake
 * (which would hand the new read the older read's index).
 *
 * Decision: reads that arrive before the leader committed an entry of its term wait in a separate
 * queue, because until then the leader's commit index may be behind the cluster's. Both queues are
 * bounded by `readIndexPendingMax`; beyond it the read is refused rather than buffered forever.
 */
import type { MemberId } from './types.js';

export interface ReadRequest {
  readonly context: string;
  /** Who asked: the leader itself or a follower that forwarded its client's read. */
  readonly from: MemberId;
}

interface PendingRead extends ReadRequest {
  readonly index: number;
  readonly acks: Set<MemberId>;
}

export class ReadOnly {
  private readonly pending: PendingRead[] = [];
  /** Reads received before the first commit of the term. */
  private readonly waiting: ReadRequest[] = [];

  constructor(private readonly pendingMax: number) {}

  isFull(): boolean {
    return this.pending.length + this.waiting.length >= this.pendingMax;
  }

  /** Whether a read with this context is already held, pending or waiting. */
  has(context: string): boolean {
    return this.pending.some((read) => read.context === context) || this.waiting.some((read) => read.context === context);
  }

  wait(request: ReadRequest): void {
    this.waiting.push(request);
  }

  takeWaiting(): ReadRequest[] {
    return this.waiting.splice(0, this.waiting.length);
  }

  add(request: ReadRequest, index: number, self: MemberId): void {
    this.pending.push({ ...request, index, acks: new Set([self]) });
  }

  /** Context for the next heartbeat: the newest pending read confirms all older ones. */
  lastContext(): string {
    return this.pending[this.pending.length - 1]?.context ?? '';
  }

  /**
   * Records `from`'s acknowledgement of `context`. When a quorum acknowledged it, returns that read
   * and every older one, now safe to serve; otherwise an empty list.
   */
  ack(context: string, from: MemberId, hasQuorum: (acks: ReadonlySet<MemberId>) => boolean): { request: ReadRequest; index: number }[] {
    const position = this.pending.findIndex((read) => read.context === context);
    const read = this.pending[position];
    if (read === undefined) return [];
    read.acks.add(from);
    if (!hasQuorum(read.acks)) return [];
    return this.pending.splice(0, position + 1).map((done) => ({ request: { context: done.context, from: done.from }, index: done.index }));
  }

  reset(): void {
    this.pending.length = 0;
    this.waiting.length = 0;
  }
}
