/**
 * The agent's view of its assignments, without I/O: relay messages and list results in, updates for
 * the pod manager and "list now" out. client.ts performs the lists and feeds the messages.
 *
 * Why nothing is lost between a list and the stream: the client subscribes before it lists, and
 * `position` is the newest (epoch, seq) received before the current list was sent. Every change up
 * to it was committed before the list was served, so the list covers it; every later change arrives
 * on the stream after it, in order, and is held while the list is in flight and replayed on top of
 * it. A change the list already reflects is harmless: a pod is never replaced by an older or equal
 * resourceVersion (kubus resourceVersions are store revisions, compared as numbers), an unknown pod
 * no newer than the list is one the list says is gone, and a deletion is final (uids never return).
 *
 * Why an epoch is trusted only once a list was sent after seeing it: a relay activated after the
 * list was served never publishes what changed between the list and its activation. So after a list
 * the stream must continue the epoch seen before the list; any other epoch (also the first one ever
 * seen, when the list ran before any message) means list again.
 *
 * While lists fail (the API unreachable) the view stays as it is and nothing is emitted: no list
 * result, no destructive update.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { AssignmentChange, AssignmentMessage, AssignmentUpdate } from './protocol.js';
import { assignmentClientLimits } from './limits.js';

export type TrackerPhase = 'starting' | 'listing' | 'waiting' | 'streaming';

export interface TrackerOutput {
  readonly updates: readonly AssignmentUpdate[];
  /** Start a list now (the caller then calls `listStarted`). */
  readonly relist: boolean;
  /** Why, for the log. */
  readonly reason?: string;
}

export interface TrackerOptions {
  readonly missedHeartbeatMs?: number;
  readonly silentRelistMaxMs?: number;
  readonly firstMessageWaitMs?: number;
  readonly listBufferMax?: number;
  readonly tombstonesMax?: number;
}

interface Position {
  readonly epoch: string;
  readonly seq: number;
}

const nothing: TrackerOutput = { updates: [], relist: false };

/** A resourceVersion as a number; NaN when absent or not a revision (then it never counts as older). */
export function revisionOf(pod: Pod | undefined): number {
  const rv = pod?.metadata?.resourceVersion;
  return rv === undefined || rv === '' ? Number.NaN : Number(rv);
}

/** True unless `candidate` is provably no newer than `current`. */
function isNewer(candidate: number, current: number): boolean {
  return Number.isNaN(candidate) || Number.isNaN(current) || candidate > current;
}

export class AssignmentTracker {
  private phase: TrackerPhase = 'starting';
  private readonly view = new Map<string, Pod>();
  /** The stream position the view covers (null: no epoch trusted yet). */
  private position: Position | null = null;
  /** The newest position received, whatever the phase. */
  private lastReceived: Position | null = null;
  private lastMessageAtMs: number;
  /** Relists for silence with no message since: each one doubles the next silence allowed (the relay is down; lists are the only news). */
  private silentRelists = 0;
  private readonly startedAtMs: number;
  private buffer: AssignmentMessage[] = [];
  private relistAfterList = false;
  /** No pod with a revision at or below this is new to the node: the newest list did not hold it. */
  private floorRevision = Number.NEGATIVE_INFINITY;
  private readonly tombstones = new Set<string>();
  private hasSynced = false;
  private readonly options: Required<TrackerOptions>;

  constructor(readonly nodeName: string, nowMs: number, options: TrackerOptions = {}) {
    this.options = {
      missedHeartbeatMs: options.missedHeartbeatMs ?? assignmentClientLimits.missedHeartbeatMs,
      silentRelistMaxMs: options.silentRelistMaxMs ?? assignmentClientLimits.silentRelistMaxMs,
      firstMessageWaitMs: options.firstMessageWaitMs ?? assignmentClientLimits.firstMessageWaitMs,
      listBufferMax: options.listBufferMax ?? assignmentClientLimits.listBufferMax,
      tombstonesMax: options.tombstonesMax ?? assignmentClientLimits.tombstonesMax,
    };
    this.startedAtMs = nowMs;
    this.lastMessageAtMs = nowMs;
  }

  currentPhase(): TrackerPhase {
    return this.phase;
  }

  synced(): boolean {
    return this.hasSynced;
  }

  /** The pods of the node as last emitted, by uid. */
  pods(): ReadonlyMap<string, Pod> {
    return this.view;
  }

  message(message: AssignmentMessage, nowMs: number): TrackerOutput {
    this.lastMessageAtMs = nowMs;
    this.silentRelists = 0;
    this.lastReceived = { epoch: message.epoch, seq: message.seq };
    switch (this.phase) {
      case 'starting':
        return { updates: [], relist: true, reason: 'first relay message' };
      case 'waiting':
        return nothing; // the next list is sent after it, so it covers it
      case 'listing':
        if (this.buffer.length >= this.options.listBufferMax) {
          this.buffer = [];
          this.relistAfterList = true;
        } else if (!this.relistAfterList) {
          this.buffer.push(message);
        }
        return nothing;
      case 'streaming': {
        const updates: AssignmentUpdate[] = [];
        const reason = this.apply(message, updates);
        return reason === null ? { updates, relist: false } : { updates, relist: true, reason };
      }
    }
  }

  /** Periodic check: the first message did not come, or the heartbeats stopped. */
  tick(nowMs: number): TrackerOutput {
    if (this.phase === 'starting' && nowMs - this.startedAtMs >= this.options.firstMessageWaitMs) {
      return { updates: [], relist: true, reason: 'no relay message yet' };
    }
    if (this.phase === 'streaming' && nowMs - this.lastMessageAtMs >= this.silenceAllowedMs()) {
      this.silentRelists++;
      return { updates: [], relist: true, reason: 'relay heartbeat missed' };
    }
    return nothing;
  }

  /** missedHeartbeatMs, doubled per relist for silence since the last message, up to silentRelistMaxMs. */
  private silenceAllowedMs(): number {
    const doubled = this.options.missedHeartbeatMs * 2 ** Math.min(this.silentRelists, 16);
    return Math.max(this.options.missedHeartbeatMs, Math.min(doubled, this.options.silentRelistMaxMs));
  }

  /** A list request is about to be sent: it covers everything received so far. */
  listStarted(): void {
    this.phase = 'listing';
    this.position = this.lastReceived;
    this.buffer = [];
    this.relistAfterList = false;
  }

  /** The list failed: keep the view, emit nothing; the caller retries with backoff. */
  listFailed(): void {
    this.phase = 'waiting';
    this.buffer = [];
  }

  /** The list's pods (all pages) and its resourceVersion: a sync, then the held messages on top. */
  listed(listedPods: readonly Pod[], listResourceVersion: string, nowMs: number): TrackerOutput {
    const listRevision = Number(listResourceVersion);
    const next = new Map<string, Pod>();
    for (const pod of listedPods) {
      const uid = pod.metadata?.uid;
      if (uid === undefined || this.tombstones.has(uid) || pod.spec?.nodeName !== this.nodeName) continue;
      const known = this.view.get(uid);
      next.set(uid, known !== undefined && !isNewer(revisionOf(pod), revisionOf(known)) ? known : pod);
    }
    // A pod the stream showed at a revision newer than the list (a list served before it was written) stays.
    for (const [uid, known] of this.view) if (!next.has(uid) && !Number.isNaN(listRevision) && revisionOf(known) > listRevision) next.set(uid, known);
    this.view.clear();
    for (const [uid, pod] of next) this.view.set(uid, pod);
    if (!Number.isNaN(listRevision)) this.floorRevision = Math.max(this.floorRevision, listRevision);
    this.hasSynced = true;
    this.phase = 'streaming';
    this.lastMessageAtMs = nowMs;
    const updates: AssignmentUpdate[] = [{ type: 'sync', pods: [...this.view.values()] }];
    const held = this.buffer;
    this.buffer = [];
    if (this.relistAfterList) return { updates, relist: true, reason: 'relay messages overflowed the list buffer' };
    for (const message of held) {
      const reason = this.apply(message, updates);
      if (reason !== null) return { updates, relist: true, reason };
    }
    return { updates, relist: false };
  }

  /** One stream message in streaming order; returns why a relist is needed, or null. */
  private apply(message: AssignmentMessage, updates: AssignmentUpdate[]): string | null {
    const position = this.position;
    if (position === null || message.epoch !== position.epoch) return 'new relay epoch';
    if (message.kind === 'heartbeat') return message.seq > position.seq ? 'sequence gap (heartbeat ahead)' : null;
    if (message.seq <= position.seq) return null; // already applied, or covered by the list
    if (message.seq > position.seq + 1) return 'sequence gap';
    this.position = { epoch: position.epoch, seq: message.seq };
    this.applyChange(message, updates);
    return null;
  }

  private applyChange(change: AssignmentChange, updates: AssignmentUpdate[]): void {
    const pod = change.pod;
    if (pod === null || pod.spec?.nodeName !== this.nodeName) return this.remove(change, updates);
    if (this.tombstones.has(change.uid)) return;
    const known = this.view.get(change.uid);
    const revision = revisionOf(pod);
    if (known !== undefined ? !isNewer(revision, revisionOf(known)) : !isNewer(revision, this.floorRevision)) return;
    this.view.set(change.uid, pod);
    updates.push({ type: 'upsert', pod });
  }

  private remove(change: AssignmentChange, updates: AssignmentUpdate[]): void {
    this.tombstone(change.uid);
    if (!this.view.delete(change.uid)) return;
    updates.push({ type: 'delete', namespace: change.namespace, name: change.name, uid: change.uid });
  }

  private tombstone(uid: string): void {
    this.tombstones.add(uid);
    if (this.tombstones.size > this.options.tombstonesMax) {
      const oldest = this.tombstones.values().next().value;
      if (oldest !== undefined) this.tombstones.delete(oldest);
    }
  }
}
