/**
 * One member's simulated disk, as a member's data directory holds it: the state machine's tables
 * (a `MemoryBackend` behind the `Backend` seam, as LMDB) and the Raft log's files (H2's
 * `MemoryWalFiles` under the member's very `WalLog`), plus the disk faults the simulation injects.
 *
 * - A power cut (`cutPowerOnNextDurableWrite`): the next sync of a WAL file or directory (or the
 *   next durable backend transaction) never happens; `PowerCut` is thrown out of it. Whatever the
 *   member did before it in that same step (messages sent "early", say) has happened; of what it
 *   wrote since its last sync, the crash keeps some, none or a torn part (MemoryWalFiles.crash).
 *   The cluster then crashes the member, which restarts from what the disk kept.
 * - A crash (`reopen`): a power cut (the state machine is gone, as a member discards its LMDB
 *   environment after a machine crash, store/member-storage.ts, and is rebuilt from the log; the
 *   WAL keeps its synced bytes and maybe part of the rest), or a killed process on a running
 *   machine (everything written is found, synced or not).
 * - A full disk (`fill`): the quota drops to what is in use now, so the member's next write that
 *   adds data finds no room; `unfill` gives the room back (deletes or a bigger disk would).
 *
 * The checkers look at the log through `storedLog`: on a copy of the files, so looking never
 * changes what the member finds (nor the run's random choices).
 */
import { Prng } from '../../bus/prng.js';
import { MemoryBackend, type Backend, type KvTable, type LoadedRaftLog, type RaftLogBatch, type RaftLogStorage, type Snapshot, type SpaceUsage, type TableName } from '../../store/index.js';
import { MemoryWalFiles, WalLog, walLimits } from '../../store/wal/index.js';

export class PowerCut extends Error {
  override readonly name = 'PowerCut';
  constructor(readonly member: string) {
    super(`power cut on ${member} during a durable write`);
  }
}

/** Small segments, so rollover and release happen within a seed's few thousand entries. */
export const simSegmentBytes = walLimits.segmentBytesMin;

/** The faults armed on a member's disk; one object across its crashes, so the files' sync hook always finds it. */
interface Faults {
  cutArmed: boolean;
  /** The log batch being saved right now (a power cut may keep part of it), else null. */
  saving: RaftLogBatch | null;
}

/** The member's WalLog, noting which batch is being saved, so a checker knows what a cut interrupted. */
class WatchedLog implements RaftLogStorage {
  constructor(
    private readonly log: WalLog,
    private readonly faults: Faults,
  ) {}

  load(): LoadedRaftLog {
    return this.log.load();
  }

  save(batch: RaftLogBatch, options: { readonly sync: boolean }): void {
    this.faults.saving = batch;
    this.log.save(batch, options);
    this.faults.saving = null;
  }

  saveLocalSnapshot(snapshot: Snapshot): void {
    this.log.saveLocalSnapshot(snapshot);
  }

  firstIndex(): number {
    return this.log.firstIndex();
  }

  lastIndex(): number {
    return this.log.lastIndex();
  }

  term(index: number): number | null {
    return this.log.term(index);
  }

  close(): void {
    this.log.close();
  }
}

/** A crash that keeps nothing unsynced: the worst a power cut may leave (int() is always 0, chance() never). */
class PessimisticPrng extends Prng {
  constructor() {
    super(0);
  }
  override int(): number {
    return 0;
  }
  override chance(): boolean {
    return false;
  }
}

export class SimDisk implements Backend {
  private inner: MemoryBackend;
  private files: MemoryWalFiles;
  durableWrites = 0;
  /** The log batch whose save the power cut before this disk's last crash interrupted, if any. */
  interruptedSave: RaftLogBatch | null = null;

  constructor(
    private readonly member: string,
    /** Decides what each crash keeps of the unsynced writes. */
    private readonly random: Prng,
    private readonly faults: Faults = { cutArmed: false, saving: null },
  ) {
    this.inner = new MemoryBackend();
    this.files = new MemoryWalFiles({ beforeSync: () => this.beforeSync() });
  }

  table(name: TableName): KvTable {
    return this.inner.table(name);
  }

  writeSync<T>(fn: () => T, options: { durable?: boolean } = {}): T {
    if (options.durable === false || !this.faults.cutArmed) {
      if (options.durable !== false) this.durableWrites++;
      return this.inner.writeSync(fn, options);
    }
    this.faults.cutArmed = false;
    // Run the transaction so it fails where a real one would, then roll it back: nothing reached the disk.
    this.inner.writeSync(() => {
      fn();
      throw new PowerCut(this.member);
    }, options);
    throw new PowerCut(this.member);
  }

  close(): void {
    this.inner.close();
  }

  /** The member's Raft log on this disk's files, as a process start opens it. */
  openLog(): RaftLogStorage {
    return new WatchedLog(new WalLog(this.files, { segmentBytes: simSegmentBytes }), this.faults);
  }

  /** The backend's space figures (its quota is the simulated disk's size). */
  space(): SpaceUsage {
    return this.inner.space();
  }

  cutPowerOnNextDurableWrite(): void {
    this.faults.cutArmed = true;
  }

  fill(): void {
    this.inner.setQuotaBytes(this.inner.space().usedBytes);
  }

  unfill(): void {
    this.inner.setQuotaBytes(Number.MAX_SAFE_INTEGER);
  }

  /** Ends the disk faults still armed (the liveness phase runs on healthy disks). */
  heal(): void {
    this.faults.cutArmed = false;
    this.unfill();
  }

  /**
   * After a crash: a fresh handle on what the disk kept. `powerCut` (MemoryBackend.reopen,
   * MemoryWalFiles.crash), `kill` (everything written), or, when not told, either (its own draw).
   */
  reopen(how?: 'powerCut' | 'kill'): SimDisk {
    const kind = how ?? (this.random.chance(0.5) ? 'powerCut' : 'kill');
    this.faults.cutArmed = false;
    const disk = new SimDisk(this.member, this.random, this.faults);
    disk.interruptedSave = this.faults.saving;
    this.faults.saving = null;
    if (kind === 'powerCut') {
      disk.inner = new MemoryBackend();
      disk.inner.setQuotaBytes(this.inner.space().quotaBytes);
    } else {
      disk.inner = this.inner.restart();
    }
    disk.files = kind === 'powerCut' ? this.files.crash(this.random) : this.files.reopen();
    return disk;
  }

  /** The underlying state-machine store, for checkers. */
  backend(): MemoryBackend {
    return this.inner;
  }

  /**
   * The Raft log as a restart would load it, on a copy of the files: `written` as after the
   * process was killed (everything written), `durable` as after the worst power cut (only what
   * was synced). The member's own files are untouched.
   */
  storedLog(view: 'written' | 'durable'): LoadedRaftLog {
    const copy = this.files.copy();
    const files = view === 'written' ? copy : copy.crash(new PessimisticPrng());
    const log = new WalLog(files, { segmentBytes: simSegmentBytes });
    try {
      return log.load();
    } finally {
      log.close();
    }
  }

  private beforeSync(): void {
    if (!this.faults.cutArmed) return;
    this.faults.cutArmed = false;
    throw new PowerCut(this.member);
  }
}
