/**
 * Member-side watches: a client registers a watch (key range, start revision, inbox subject) and
 * the member publishes every matching event to the inbox, in revision order, with no gaps.
 *
 * A watch is either catching up (replaying history from the MVCC store, a bounded batch per tick,
 * so a watch from an old revision cannot stall the member) or synced (fed live from each applied
 * revision). A snapshot from the leader replaces the state wholesale, so every synced watch goes
 * back to catching up from the revision it had reached; if that history was compacted away the
 * watch is canceled with a Compacted error and the client resumes from a fresh read.
 *
 * Watches are leased: a client renews its watch ids; a watch not renewed within `leaseMs` belongs
 * to a client that is gone and is dropped, so a member never publishes forever to nobody.
 *
 * A member outside the cluster configuration (removed, or not joined yet) applies nothing more, so
 * a watch it served would stall without a sign: it refuses new watches and answers renewals with
 * "unknown", and the client moves the watch to another member from the revision it needs.
 */
import type { Bus } from '../bus/transport.js';
import type { Clock } from '../bus/clock.js';
import { encode } from '../bus/codec.js';
import { KubusError, toWire } from '../bus/errors.js';
import { InvalidRequestError, QuotaExceededError, StoreStoppedError } from './errors.js';
import type { RaftDriver } from './raft-driver.js';
import type { KeyRange, WatchEvent } from './mvcc/types.js';
import { byteRange, inByteRange, keyBytes, type ByteRange } from './mvcc/key-layout.js';
import type { UnsequencedWatchMessage, WatchCreate, WatchMessage } from './protocol.js';

export const watchLimits = {
  /** Watches one member serves: each costs a range match per applied revision. */
  watchesMax: 10_000,
  /** Events replayed per watch per tick while catching up: bounds one tick's work. */
  catchUpEventsPerTick: 1_000,
  /** Events per published message (a revision is never split): far below NATS's 1 MiB payload limit for small values. */
  eventsPerMessageMax: 256,
  /** A watch not renewed for this long belongs to a client that went away. */
  leaseMs: 30_000,
  /** Progress notifications, when asked for, at this period (etcd uses 10 minutes; ours is cheap). */
  progressEveryMs: 5_000,
} as const;

interface Watch {
  readonly create: WatchCreate;
  /** The range as bytes, made once: matching is then a byte comparison per event, no encoding. */
  readonly bytes: ByteRange;
  /** The next revision this watch must deliver. */
  nextRevision: number;
  synced: boolean;
  renewedAtMs: number;
  lastProgressMs: number;
  /** Sequence number of the last message published for this watch (the client detects gaps). */
  sequence: number;
}

export interface WatchServiceOptions {
  readonly driver: RaftDriver;
  readonly bus: Bus;
  readonly clock: Clock;
}

export class WatchService {
  private readonly watches = new Map<string, Watch>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly options: WatchServiceOptions) {}

  start(): void {
    this.unsubscribe = this.options.driver.subscribe({
      applied: (events, revision) => this.onApplied(events, revision),
      snapshotRestored: () => {
        for (const watch of this.watches.values()) watch.synced = false;
      },
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.watches.clear();
  }

  /** Registers a watch; answers the revision it is synced from. Throws Compacted for a compacted start. */
  create(create: WatchCreate): { watchId: string; revision: number } {
    if (typeof create.watchId !== 'string' || create.watchId.length === 0) throw new InvalidRequestError('watchId must be a non-empty string');
    if (typeof create.inbox !== 'string' || create.inbox.length === 0) throw new InvalidRequestError('inbox must be a subject');
    if (this.watches.has(create.watchId)) throw new InvalidRequestError(`watch ${create.watchId} already exists`);
    if (this.watches.size >= watchLimits.watchesMax) throw new QuotaExceededError('watches per member', watchLimits.watchesMax);
    if (!this.inConfiguration()) throw new StoreStoppedError('this member is not in the cluster configuration (removed, or not joined yet): it serves no watches');
    const { mvcc } = this.options.driver;
    const current = mvcc.currentRevision();
    const start = create.startRevision > 0 ? create.startRevision : current + 1;
    // Fails now with Compacted (or nothing), rather than after the client thinks it is watching.
    if (start <= current) mvcc.eventsSince(create.range, start, 1);
    const now = this.options.clock.now();
    this.watches.set(create.watchId, { create, bytes: byteRange(create.range), nextRevision: start, synced: start > current, renewedAtMs: now, lastProgressMs: now, sequence: 0 });
    return { watchId: create.watchId, revision: current };
  }

  /** Renews watches; answers the ids this member does not know (the client must re-create them). */
  renew(watchIds: readonly string[]): { unknown: string[] } {
    if (!this.inConfiguration()) {
      for (const id of watchIds) this.watches.delete(id);
      return { unknown: [...watchIds] };
    }
    const now = this.options.clock.now();
    const unknown: string[] = [];
    for (const id of watchIds) {
      const watch = this.watches.get(id);
      if (watch === undefined) unknown.push(id);
      else watch.renewedAtMs = now;
    }
    return { unknown };
  }

  cancel(watchId: string): { canceled: boolean } {
    return { canceled: this.watches.delete(watchId) };
  }

  tick(): void {
    // Most members serve no watch most of the time: an idle tick reads nothing (the revision is an LMDB get).
    if (this.watches.size === 0) return;
    const now = this.options.clock.now();
    // Read once per tick, and only when a watch needs it: synced watches without a progress due
    // (nearly all of them at rest) cost a lease check each, no LMDB read.
    let current: number | null = null;
    const revision = (): number => (current ??= this.options.driver.mvcc.currentRevision());
    for (const [id, watch] of this.watches) {
      if (now - watch.renewedAtMs > watchLimits.leaseMs) {
        this.watches.delete(id);
        continue;
      }
      if (!watch.synced) this.catchUp(watch, revision());
      if (watch.create.progressNotify && watch.synced && now - watch.lastProgressMs >= watchLimits.progressEveryMs) {
        watch.lastProgressMs = now;
        this.publish(watch, { type: 'progress', watchId: id, revision: revision() });
      }
    }
  }

  private inConfiguration(): boolean {
    const { id, conf } = this.options.driver.status();
    return conf.voters.includes(id) || conf.learners.includes(id);
  }

  private catchUp(watch: Watch, current: number): void {
    try {
      const { events, lastRevision } = this.options.driver.mvcc.eventsSince(watch.create.range, watch.nextRevision, watchLimits.catchUpEventsPerTick);
      this.deliver(watch, events);
      watch.nextRevision = lastRevision + 1;
      if (lastRevision >= current) watch.synced = true;
    } catch (error) {
      if (!(error instanceof KubusError)) throw error;
      this.watches.delete(watch.create.watchId);
      this.publish(watch, { type: 'canceled', watchId: watch.create.watchId, error: toWire(error) });
    }
  }

  private onApplied(events: readonly WatchEvent[], revision: number): void {
    // Each event's key as bytes, encoded once for all watches (and only when one is synced here).
    let keys: Uint8Array[] | null = null;
    for (const watch of this.watches.values()) {
      if (!watch.synced) continue;
      if (revision < watch.nextRevision) continue;
      if (revision > watch.nextRevision) {
        // A revision went by without us (cannot happen while synced, but never guess): replay.
        watch.synced = false;
        continue;
      }
      keys ??= events.map((event) => keyBytes(event.kv.key));
      const matched = keys;
      this.deliver(watch, events.filter((_event, index) => inByteRange(matched[index] as Uint8Array, watch.bytes)));
      watch.nextRevision = revision + 1;
    }
  }

  /** Batches never split one revision, so a client resuming "after revision R" loses nothing. */
  private deliver(watch: Watch, events: readonly WatchEvent[]): void {
    let batch: WatchEvent[] = [];
    const flush = (): void => {
      const last = batch[batch.length - 1];
      if (last !== undefined) this.publish(watch, { type: 'events', watchId: watch.create.watchId, revision: last.kv.modRevision, events: batch });
      batch = [];
    };
    for (const event of events) {
      const last = batch[batch.length - 1];
      if (last !== undefined && batch.length >= watchLimits.eventsPerMessageMax && last.kv.modRevision !== event.kv.modRevision) flush();
      batch.push(watch.create.prevKv ? event : { ...event, prevKv: null });
    }
    flush();
  }

  private publish(watch: Watch, message: UnsequencedWatchMessage): void {
    watch.sequence++;
    this.options.bus.publish(watch.create.inbox, encode({ ...message, sequence: watch.sequence } as WatchMessage));
  }
}

export type { KeyRange };
