/**
 * A watch stream checked against the applied history. One watcher follows every workload key
 * through the real StoreClient/StoreWatch; whenever the watch ends (its member went away, a gap
 * was noticed) it resumes from the revision it needs next, as a caller must. The applied history
 * is what members applied (the first member to apply a revision records its events; the safety
 * checker makes sure every other member applies the same).
 *
 * Gap-free delivery: within one stream (from its start revision, or after a compaction forced a
 * fresh start), every revision the history holds up to the last one delivered was delivered once,
 * in order, with exactly the events that were applied.
 */
import type { Prng } from '../../bus/index.js';
import { CompactedError, StoreClient, type StoreWatch, type WatchEvent } from '../../store/index.js';
import type { SimCluster } from './sim-cluster.js';

export const watchCheckLimits = {
  /** The watcher asks its member this often whether it still serves the watch. */
  renewEveryMs: 200,
  /** Pause before asking again when no member accepted the watch. */
  retryMs: 50,
} as const;

interface Segment {
  /** First revision this stream must deliver. */
  readonly from: number;
  readonly delivered: { revision: number; signature: string }[];
}

export class WatchChecker {
  private readonly applied = new Map<number, string>();
  private readonly segments: Segment[] = [];
  private watch: StoreWatch | null = null;
  private running = false;
  private readonly client: StoreClient;
  delivered = 0;
  resumes = 0;

  constructor(private readonly cluster: SimCluster, random: Prng, private readonly prefix: string) {
    this.client = new StoreClient({
      bus: cluster.network.connect('watcher'), cluster: cluster.cluster, members: cluster.memberIds,
      clock: cluster.clock, random: random.fork(), callTimeoutMs: 2_000, attemptTimeoutMs: 1_000,
    });
    cluster.onMemberStarted((_id, driver) => {
      driver.subscribe({ applied: (events, revision) => this.onApplied(events, revision) });
    });
  }

  start(): void {
    this.running = true;
    void this.open(0);
  }

  stop(): void {
    this.running = false;
    this.watch?.close();
    this.watch = null;
  }

  /**
   * After healing: moves the stream to a member of the final configuration (a watch may sit on a
   * process that never joined, which serves nothing; a caller would notice the silence).
   */
  reopen(members: readonly string[]): void {
    this.client.setMembers(members);
    const watch = this.watch;
    if (watch === null) return;
    this.watch = null;
    watch.close();
    this.resumes++;
    void this.open(watch.resumeRevision());
  }

  /** Whether the stream delivered everything applied under the prefix. */
  caughtUp(): boolean {
    let latest = 0;
    for (const revision of this.applied.keys()) latest = Math.max(latest, revision);
    const segment = this.segments[this.segments.length - 1];
    const delivered = segment?.delivered[segment.delivered.length - 1]?.revision ?? 0;
    return this.watch !== null && delivered >= latest;
  }

  /**
   * Exactly once: every value the workload writes is unique, so one put value applied at two
   * revisions is one write applied twice (a retry with the same request id that the member's
   * dedup table no longer knew). Null when none was.
   */
  appliedTwice(): string | null {
    return duplicatePuts(this.applied);
  }

  /** Throws at the first revision delivered out of order, with the wrong events, or skipped. */
  check(): void {
    for (const segment of this.segments) {
      let expectNext = segment.from;
      for (const { revision, signature } of segment.delivered) {
        if (revision < expectNext) throw new WatchViolation(`watch delivered revision ${revision} again or out of order (expected ${expectNext} or later)`);
        for (let missing = expectNext; missing < revision; missing++) {
          const events = this.applied.get(missing);
          if (events !== undefined) throw new WatchViolation(`watch skipped revision ${missing} (${events}); it delivered ${revision} next`);
        }
        const expected = this.applied.get(revision);
        if (expected !== signature) throw new WatchViolation(`watch delivered at revision ${revision} "${signature}" but "${expected ?? 'nothing'}" was applied`);
        expectNext = revision + 1;
      }
    }
  }

  private onApplied(events: readonly WatchEvent[], revision: number): void {
    const mine = events.filter((event) => event.kv.key.startsWith(this.prefix));
    if (mine.length > 0 && !this.applied.has(revision)) this.applied.set(revision, signatureOf(mine));
  }

  /** Opens a stream from `revision` (0: from now, a new segment). */
  private async open(revision: number): Promise<void> {
    while (this.running) {
      const segment = revision === 0 ? null : this.segments[this.segments.length - 1];
      try {
        let current: Segment | null = segment ?? null;
        // The watch may end before start() returns (a gap among its first messages): kept here.
        const holder: { watch: StoreWatch | null; early: Error | null } = { watch: null, early: null };
        const watch = await this.client.watch({
          range: { key: this.prefix, prefix: true },
          startRevision: revision,
          renewEveryMs: watchCheckLimits.renewEveryMs,
          onEvents: (events) => this.onEvents(current, events),
          onError: (error) => {
            if (holder.watch === null) holder.early = error;
            else this.onError(holder.watch, error);
          },
        });
        holder.watch = watch;
        if (!this.running) {
          watch.close();
          return;
        }
        if (current === null) {
          current = { from: watch.resumeRevision(), delivered: [] };
          this.segments.push(current);
        }
        if (holder.early !== null) {
          this.resumes++;
          revision = holder.early instanceof CompactedError ? 0 : watch.resumeRevision();
          continue;
        }
        this.watch = watch;
        return;
      } catch (error) {
        // Events may have come before start() failed: resume after the last one delivered.
        const last = segment?.delivered[segment.delivered.length - 1]?.revision;
        if (last !== undefined) revision = Math.max(revision, last + 1);
        if (error instanceof CompactedError) revision = 0;
        await new Promise<void>((resolve) => this.cluster.clock.setTimeout(resolve, watchCheckLimits.retryMs));
      }
    }
  }

  private onEvents(segment: Segment | null, events: readonly WatchEvent[]): void {
    if (segment === null) return;
    const byRevision = new Map<number, WatchEvent[]>();
    for (const event of events) {
      const list = byRevision.get(event.kv.modRevision) ?? [];
      list.push(event);
      byRevision.set(event.kv.modRevision, list);
    }
    for (const [revision, list] of byRevision) {
      segment.delivered.push({ revision, signature: signatureOf(list) });
      this.delivered++;
    }
  }

  private onError(watch: StoreWatch | null, error: Error): void {
    if (watch === null || this.watch !== watch || !this.running) return;
    this.watch = null;
    this.resumes++;
    void this.open(error instanceof CompactedError ? 0 : watch.resumeRevision());
  }
}

/** Put values applied at more than one revision, described; null when every value applied once. */
export function duplicatePuts(applied: ReadonlyMap<number, string>): string | null {
  const firstAt = new Map<string, number>();
  const twice: string[] = [];
  for (const [revision, signature] of [...applied].sort(([a], [b]) => a - b)) {
    for (const event of signature.split('; ')) {
      if (!event.startsWith('put ')) continue;
      const put = event.slice('put '.length);
      const earlier = firstAt.get(put);
      if (earlier === undefined) firstAt.set(put, revision);
      else twice.push(`${put} at revisions ${earlier} and ${revision}`);
    }
  }
  return twice.length === 0 ? null : `writes applied twice: ${twice.slice(0, 5).join(' | ')}`;
}

function signatureOf(events: readonly WatchEvent[]): string {
  return events.map((event) => `${event.type} ${event.kv.key}=${new TextDecoder().decode(event.kv.value)}`).join('; ');
}

export class WatchViolation extends Error {
  override readonly name = 'WatchViolation';
}
