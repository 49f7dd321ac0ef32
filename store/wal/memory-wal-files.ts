/**
 * `WalFiles` in memory, for the simulation and unit tests, with the failures a disk shows:
 *
 * - `reopen()`: the process died (kill -9) but the machine did not: everything written is found,
 *   synced or not (the kernel had it).
 * - `crash(random)`: a power cut. For each file, what it held at its last `sync` survives; of the
 *   writes and truncations since, the `random` generator keeps a prefix, the last one of it
 *   possibly torn: a prefix of its bytes, or (a disk writes a write's sectors in any order) all
 *   of it but one 512-byte sector, which keeps its old bytes. Of the creations, renames and removals since the last
 *   `syncDirectory`, it keeps a prefix in order (a journaling file system commits metadata in
 *   order), so a new file may be missing, a removed one may come back, a rename may not have
 *   happened.
 *
 * Deterministic: every choice comes from the `Prng` passed in. A `beforeSync` hook lets the
 * simulation cut the power at a sync (it throws, and the sync did not happen).
 *
 * Decision: a file's bytes past the last non-zero write are kept implicit (zero), so a 64 MiB
 * pre-allocated segment costs memory only for what was written into it.
 */
import type { Prng } from '../../bus/prng.js';
import type { WalFiles } from './wal-files.js';
import { isZero } from './zero-bytes.js';

type PendingChange =
  | { readonly kind: 'write'; readonly offset: number; readonly data: Uint8Array; readonly old: Uint8Array; readonly sizeBefore: number }
  | { readonly kind: 'truncate'; readonly bytes: number; readonly old: Uint8Array; readonly sizeBefore: number }
  /** Zeros written past the last non-zero byte: only the size changes, so nothing is copied. */
  | { readonly kind: 'extend'; readonly bytes: number; readonly sizeBefore: number };

/** The disk's unit of atomic writes: a power cut leaves each sector old or new, not mixed. */
const sectorBytes = 512;

type DirectoryChange = { readonly kind: 'link'; readonly name: string; readonly file: MemoryFile } | { readonly kind: 'unlink'; readonly name: string };

class MemoryFile {
  private bytes = new Uint8Array(0);
  /** Bytes past `extent` are zero, here and in the file. */
  private extent = 0;
  size = 0;
  /** Changes since the last sync, oldest first, with what they replaced. */
  pending: PendingChange[] = [];

  get extentBytes(): number {
    return this.extent;
  }

  read(offset: number, length: number): Uint8Array {
    const end = Math.min(this.size, offset + length);
    const out = new Uint8Array(Math.max(0, end - offset));
    if (offset < this.extent) out.set(this.bytes.subarray(offset, Math.min(this.extent, end)));
    return out;
  }

  write(offset: number, data: Uint8Array): void {
    const end = offset + data.length;
    if (offset >= this.extent && isZero(data)) {
      this.size = Math.max(this.size, end);
      return;
    }
    if (end > this.bytes.length) {
      const grown = new Uint8Array(Math.max(end, 2 * this.bytes.length));
      grown.set(this.bytes.subarray(0, this.extent));
      this.bytes = grown;
    }
    this.bytes.set(data, offset);
    this.extent = Math.max(this.extent, end);
    this.size = Math.max(this.size, end);
  }

  setSize(bytes: number): void {
    if (bytes < this.extent) {
      this.bytes.fill(0, bytes, this.extent);
      this.extent = bytes;
    }
    this.size = bytes;
  }

  /**
   * Rolls back every pending change, then replays the first `kept`, and of the next either a
   * prefix (`tornBytes`) or all of it but the 512-byte sector at `holeSector` (which keeps its old bytes).
   */
  settle(kept: number, tornBytes: number, holeSector: number | null = null): void {
    const changes = this.pending;
    this.pending = [];
    for (let i = changes.length - 1; i >= 0; i--) {
      const change = changes[i] as PendingChange;
      this.setSize(change.sizeBefore);
      if (change.kind === 'write') this.write(change.offset, change.old);
      else if (change.kind === 'truncate') this.write(change.bytes, change.old);
      this.setSize(change.sizeBefore);
    }
    for (let i = 0; i < kept; i++) this.apply(changes[i] as PendingChange, null);
    const next = changes[kept];
    if (next?.kind === 'write' && holeSector !== null) {
      this.apply(next, null);
      const from = Math.max(next.offset, holeSector);
      const to = Math.min(next.offset + next.data.length, holeSector + sectorBytes);
      const old = new Uint8Array(to - from);
      old.set(next.old.subarray(Math.min(next.old.length, from - next.offset), Math.min(next.old.length, to - next.offset)));
      this.write(from, old);
    } else if (next !== undefined && tornBytes > 0) this.apply(next, tornBytes);
  }

  clone(): MemoryFile {
    const copy = new MemoryFile();
    copy.bytes = this.bytes.slice(0, this.extent);
    copy.extent = this.extent;
    copy.size = this.size;
    copy.pending = [...this.pending];
    return copy;
  }

  private apply(change: PendingChange, tornBytes: number | null): void {
    if (change.kind === 'write') this.write(change.offset, tornBytes === null ? change.data : change.data.subarray(0, tornBytes));
    else if (change.kind === 'extend') this.setSize(tornBytes === null ? change.bytes : Math.max(this.size, change.sizeBefore + tornBytes));
    else this.setSize(change.bytes);
  }
}


export interface MemoryWalFilesOptions {
  /** Called before every `sync` and `syncDirectory` (name null); throwing from it means the sync never happened. */
  readonly beforeSync?: (name: string | null) => void;
}

export class MemoryWalFiles implements WalFiles {
  private names = new Map<string, MemoryFile>();
  private durableNames = new Map<string, MemoryFile>();
  private directoryChanges: DirectoryChange[] = [];
  private dead = false;
  /** Data syncs and directory syncs so far, for tests and the simulation's accounting. */
  syncs = 0;

  constructor(private readonly options: MemoryWalFilesOptions = {}) {}

  list(): string[] {
    this.checkAlive();
    return [...this.names.keys()];
  }

  size(name: string): number {
    return this.file(name).size;
  }

  read(name: string, offset = 0, length?: number): Uint8Array {
    const file = this.file(name);
    return file.read(offset, length ?? Math.max(0, file.size - offset));
  }

  create(name: string, bytes: number): void {
    this.checkAlive();
    if (this.names.has(name)) throw new Error(`wal file ${name} already exists`);
    const file = new MemoryFile();
    this.link(name, file);
    if (bytes > 0) {
      file.pending.push({ kind: 'extend', bytes, sizeBefore: 0 });
      file.setSize(bytes);
    }
  }

  write(name: string, offset: number, data: Uint8Array): void {
    const file = this.file(name);
    const sizeBefore = file.size;
    if (offset >= file.extentBytes && isZero(data)) {
      if (offset + data.length > sizeBefore) file.pending.push({ kind: 'extend', bytes: offset + data.length, sizeBefore });
      file.setSize(Math.max(sizeBefore, offset + data.length));
      return;
    }
    const old = file.read(offset, Math.min(data.length, Math.max(0, sizeBefore - offset)));
    file.pending.push({ kind: 'write', offset, data: new Uint8Array(data), old, sizeBefore });
    file.write(offset, data);
  }

  sync(name: string): void {
    const file = this.file(name);
    this.options.beforeSync?.(name);
    this.syncs++;
    file.pending = [];
  }

  truncate(name: string, bytes: number): void {
    const file = this.file(name);
    const sizeBefore = file.size;
    file.pending.push({ kind: 'truncate', bytes, old: file.read(bytes, Math.max(0, sizeBefore - bytes)), sizeBefore });
    file.setSize(bytes);
  }

  rename(from: string, to: string): void {
    const file = this.file(from);
    this.unlink(from);
    if (this.names.has(to)) this.unlink(to);
    this.link(to, file);
  }

  remove(name: string): void {
    this.file(name);
    this.unlink(name);
  }

  syncDirectory(): void {
    this.checkAlive();
    this.options.beforeSync?.(null);
    this.syncs++;
    this.durableNames = new Map(this.names);
    this.directoryChanges = [];
  }

  close(): void {
    // Nothing to release; the files stay readable through reopen() or crash().
  }

  /** The files as a restarted process finds them after this one was killed (the machine kept running). */
  reopen(): MemoryWalFiles {
    this.checkAlive();
    this.dead = true;
    const next = new MemoryWalFiles(this.options);
    next.names = this.names;
    next.durableNames = this.durableNames;
    next.directoryChanges = this.directoryChanges;
    return next;
  }

  /**
   * An independent, live handle on a copy of the files as they are now (unsynced writes and
   * directory changes included), with its own options; this handle stays alive. The simulation's
   * checkers load a running member's WAL from `copy().crash(random)` without touching the member.
   */
  copy(options: MemoryWalFilesOptions = {}): MemoryWalFiles {
    this.checkAlive();
    const copies = new Map<MemoryFile, MemoryFile>();
    const copyOf = (file: MemoryFile): MemoryFile => {
      let copy = copies.get(file);
      if (copy === undefined) {
        copy = file.clone();
        copies.set(file, copy);
      }
      return copy;
    };
    const next = new MemoryWalFiles(options);
    next.names = new Map([...this.names].map(([name, file]) => [name, copyOf(file)]));
    next.durableNames = new Map([...this.durableNames].map(([name, file]) => [name, copyOf(file)]));
    next.directoryChanges = this.directoryChanges.map((change) => (change.kind === 'link' ? { ...change, file: copyOf(change.file) } : change));
    return next;
  }

  /** The files as a power cut leaves them (see the file's header); this handle is dead afterwards. */
  crash(random: Prng): MemoryWalFiles {
    this.checkAlive();
    this.dead = true;
    const names = new Map(this.durableNames);
    const keptChanges = random.int(this.directoryChanges.length + 1);
    for (const change of this.directoryChanges.slice(0, keptChanges)) {
      if (change.kind === 'link') names.set(change.name, change.file);
      else names.delete(change.name);
    }
    const settled = new Set<MemoryFile>();
    for (const file of [...this.names.values(), ...names.values()]) {
      if (settled.has(file)) continue;
      settled.add(file);
      const kept = random.int(file.pending.length + 1);
      const torn = file.pending[kept];
      const tornLength = torn === undefined || torn.kind === 'truncate' ? 0 : torn.kind === 'write' ? torn.data.length : torn.bytes - torn.sizeBefore;
      const tornBytes = tornLength > 0 && random.chance(0.5) ? random.int(tornLength) : 0;
      file.settle(kept, tornBytes, tornBytes === 0 && torn?.kind === 'write' ? this.holeSector(torn, random) : null);
    }
    const next = new MemoryWalFiles(this.options);
    next.names = names;
    next.durableNames = new Map(names);
    return next;
  }

  /** For a write over several sectors, sometimes one sector the disk did not persist (it wrote the others first). */
  private holeSector(write: { readonly offset: number; readonly data: Uint8Array }, random: Prng): number | null {
    const first = Math.floor(write.offset / sectorBytes);
    const last = Math.floor((write.offset + write.data.length - 1) / sectorBytes);
    if (last === first || !random.chance(0.3)) return null;
    return random.between(first, last) * sectorBytes;
  }

  private link(name: string, file: MemoryFile): void {
    this.names.set(name, file);
    this.directoryChanges.push({ kind: 'link', name, file });
  }

  private unlink(name: string): void {
    this.names.delete(name);
    this.directoryChanges.push({ kind: 'unlink', name });
  }

  private file(name: string): MemoryFile {
    this.checkAlive();
    const file = this.names.get(name);
    if (file === undefined) throw new Error(`wal file ${name} does not exist`);
    return file;
  }

  private checkAlive(): void {
    if (this.dead) throw new Error('this MemoryWalFiles handle was crashed or reopened; use the one that returned');
  }
}
