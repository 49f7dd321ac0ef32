/**
 * The client side of a watch: ordered, gap-free, resumable.
 *
 * Any member can serve a watch from its applied state. The client remembers the next revision it
 * needs; when the serving member goes quiet (a renewal fails or it forgot the watch) the client
 * re-creates the watch on another member from that revision, under a fresh watch id so that late
 * messages of the old one are recognised and ignored. Events at or below the last delivered
 * revision are dropped, so a resume never delivers twice.
 *
 * The member numbers each watch's messages 1, 2, 3, ...; a message missing from that sequence
 * was dropped by NATS (slow consumer, reconnect), and the watch ends with WatchGapError naming
 * the revision to resume from, rather than skip events silently.
 */
import type { Bus, Subscription } from '../bus/transport.js';
import type { Clock } from '../bus/clock.js';
import type { Prng } from '../bus/prng.js';
import { decode } from '../bus/codec.js';
import { QueueOverflowError, fromWire } from '../bus/errors.js';
import { CompactedError, WatchGapError, storeErrorFactories } from './errors.js';
import type { KeyRange, WatchEvent } from './mvcc/types.js';
import type { MemberId } from './raft/types.js';
import type { WatchMessage } from './protocol.js';
import type { StoreClient } from './store-client.js';

export const storeWatchLimits = {
  /** Default renewal period: a third of the member's watch lease, so two renewals may fail before it expires. */
  renewEveryMs: 10_000,
  /** Messages buffered for a slow consumer before the watch is failed (the caller resumes it). */
  pendingMessagesMax: 4_096,
} as const;

export interface WatchOptions {
  readonly range: KeyRange;
  /** First revision to deliver; 0 = changes after now. */
  readonly startRevision: number;
  readonly prevKv?: boolean;
  readonly progressNotify?: boolean;
  readonly onEvents: (events: readonly WatchEvent[], revision: number) => void;
  /** Progress: everything up to `revision` was delivered. */
  readonly onProgress?: (revision: number) => void;
  /** The watch ended for good (compacted start, or it could not be resumed in time). */
  readonly onError: (error: Error) => void;
  /** How often the serving member is asked whether it still serves us: how fast a dead member is noticed. */
  readonly renewEveryMs?: number;
}

export class StoreWatch {
  private subscription: Subscription | null = null;
  private watchId = '';
  /** The sequence number the next message of the current watch id must carry. */
  private expectedSequence = 1;
  private member: MemberId | null = null;
  private nextRevision: number;
  private timer = -1;
  private closed = false;
  private attempt = 0;

  constructor(
    private readonly client: StoreClient,
    private readonly bus: Bus,
    private readonly clock: Clock,
    private readonly random: Prng,
    private readonly members: () => readonly MemberId[],
    private readonly options: WatchOptions,
  ) {
    this.nextRevision = options.startRevision;
  }

  /** Resolves once a member accepted the watch; rejects with Compacted and other typed errors. */
  async start(): Promise<void> {
    const inbox = `_INBOX.kubuswatch.${this.random.nextUint32().toString(16)}${this.random.nextUint32().toString(16)}`;
    this.subscription = this.bus.subscribe(inbox, (message) => this.onMessage(decode<WatchMessage>(message.data)), {
      pendingMax: storeWatchLimits.pendingMessagesMax,
      onOverflow: () => this.fail(new QueueOverflowError('watch events', storeWatchLimits.pendingMessagesMax)),
    });
    try {
      await this.establish(inbox);
    } catch (error) {
      // No member holds the watch: drop the inbox too, so a failed start leaks no subscription
      // and delivers nothing more to a caller that was told it failed.
      this.close();
      throw error;
    }
    this.scheduleRenew(inbox);
  }

  /** The revision the next delivered event will have at least. */
  resumeRevision(): number {
    return this.nextRevision;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.subscription?.unsubscribe();
    if (this.member !== null) this.client.callMember(this.member, { type: 'watchCancel', watchId: this.watchId }, 1_000).catch(() => undefined);
  }

  private async establish(inbox: string): Promise<void> {
    const members = this.members();
    let lastError: unknown = null;
    // Where this round starts, fixed: `attempt` also counts within the round, and adding both
    // skipped every other member (with two members, the same one was asked twice; simulation seed 1400).
    const first = this.attempt;
    for (let i = 0; i < members.length; i++) {
      const member = members[(first + i) % members.length] as MemberId;
      const watchId = `${inbox.slice(-16)}-${++this.attempt}`;
      this.watchId = watchId;
      this.expectedSequence = 1;
      try {
        const reply = await this.client.callMember<{ watchId: string; revision: number }>(member, {
          type: 'watchCreate',
          watch: { watchId, range: this.options.range, startRevision: this.nextRevision, prevKv: this.options.prevKv ?? false, progressNotify: this.options.progressNotify ?? false, inbox },
        }, 3_000);
        this.member = member;
        if (this.nextRevision === 0) this.nextRevision = reply.revision + 1;
        return;
      } catch (error) {
        if (error instanceof CompactedError) throw error;
        lastError = error;
      }
    }
    throw lastError instanceof Error ? lastError : new Error('no member accepted the watch');
  }

  private scheduleRenew(inbox: string): void {
    this.timer = this.clock.setTimeout(() => {
      void this.renew(inbox).finally(() => {
        if (!this.closed) this.scheduleRenew(inbox);
      });
    }, this.options.renewEveryMs ?? storeWatchLimits.renewEveryMs);
  }

  private async renew(inbox: string): Promise<void> {
    if (this.closed || this.member === null) return;
    try {
      const reply = await this.client.callMember<{ unknown: string[] }>(this.member, { type: 'watchRenew', watchIds: [this.watchId] }, 3_000);
      if (reply.unknown.length === 0) return;
    } catch {
      // The member is gone or slow: move the watch.
    }
    try {
      await this.establish(inbox);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private onMessage(message: WatchMessage): void {
    if (this.closed || message.watchId !== this.watchId) return;
    // Below: a copy of a message already handled (a network may duplicate). Above: one was lost.
    if (message.sequence < this.expectedSequence) return;
    if (message.sequence > this.expectedSequence) {
      this.fail(new WatchGapError(this.expectedSequence, message.sequence, this.nextRevision));
      return;
    }
    this.expectedSequence++;
    if (message.type === 'canceled') {
      this.fail(fromWire(message.error as Parameters<typeof fromWire>[0], storeErrorFactories));
      return;
    }
    if (message.type === 'progress') {
      this.options.onProgress?.(message.revision);
      return;
    }
    const fresh = message.events.filter((event) => event.kv.modRevision >= this.nextRevision);
    if (fresh.length === 0) return;
    this.nextRevision = message.revision + 1;
    this.options.onEvents(fresh, message.revision);
  }

  private fail(error: Error): void {
    if (this.closed) return;
    this.close();
    this.options.onError(error);
  }
}
