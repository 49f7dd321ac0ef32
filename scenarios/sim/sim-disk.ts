/**
 * One member's simulated disk: a `MemoryBackend` behind the `Backend` seam, plus the disk faults
 * the simulation injects.
 *
 * - A power cut during a transaction (`cutPowerOnNextDurableWrite`): the next durable transaction
 *   runs, is rolled back, and `PowerCut` is thrown out of it. Whatever the member did before the
 *   disk write in that same step (messages sent "early", say) has happened; what it wrote has not.
 *   The cluster then crashes the member, so it restarts from what was durable before. This is
 *   the crash inside a Ready that crashes between events cannot model.
 * - A full disk (`fill`): the quota drops to what is in use now, so the member's next write that
 *   adds data finds no room; `unfill` gives the room back (deletes or a bigger disk would).
 */
import { MemoryBackend, type Backend, type KvTable, type SpaceUsage, type TableName } from '../../store/index.js';

export class PowerCut extends Error {
  override readonly name = 'PowerCut';
  constructor(readonly member: string) {
    super(`power cut on ${member} during a durable write`);
  }
}

export class SimDisk implements Backend {
  private inner: MemoryBackend;
  private cutArmed = false;
  durableWrites = 0;

  constructor(private readonly member: string) {
    this.inner = new MemoryBackend();
  }

  table(name: TableName): KvTable {
    return this.inner.table(name);
  }

  writeSync<T>(fn: () => T, options: { durable?: boolean } = {}): T {
    if (options.durable === false || !this.cutArmed) {
      if (options.durable !== false) this.durableWrites++;
      return this.inner.writeSync(fn, options);
    }
    this.cutArmed = false;
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

  /** The backend's space figures (its quota is the simulated disk's size). */
  space(): SpaceUsage {
    return this.inner.space();
  }

  cutPowerOnNextDurableWrite(): void {
    this.cutArmed = true;
  }

  fill(): void {
    this.inner.setQuotaBytes(this.inner.space().usedBytes);
  }

  unfill(): void {
    this.inner.setQuotaBytes(Number.MAX_SAFE_INTEGER);
  }

  /** Ends the disk faults still armed (the liveness phase runs on healthy disks). */
  heal(): void {
    this.cutArmed = false;
    this.unfill();
  }

  /** After a crash: a fresh handle on what the disk kept (see MemoryBackend.reopen). */
  reopen(): SimDisk {
    const disk = new SimDisk(this.member);
    disk.inner = this.inner.reopen();
    return disk;
  }

  /** The underlying store, for checkers that read the stored log. */
  backend(): MemoryBackend {
    return this.inner;
  }
}
