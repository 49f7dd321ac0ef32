/**
 * The Raft log's write-ahead log: `RaftLogStorage` over CRC-checked records (record.ts) appended
 * to pre-allocated segment files, with snapshots in their own files (snapshot-file.ts), through
 * the `WalFiles` seam so the simulation runs this very code on its simulated disk.
 *
 * Decision (as etcd's WAL): a save is one write of all its records and at most one data sync;
 * a segment is zero-filled before first use (a sync then writes data only, no metadata); each
 * segment starts with a header that restates the hard state and the snapshot marker, so segments
 * wholly covered by a local snapshot can be removed without losing either. Segments are named
 * `<sequence>-<index the segment starts after>.wal` (16 hex digits each).
 *
 * Decision: a segment file is zero-filled only a bounded lead ahead of its write offset: it starts
 * at one chunk (`walLimits.preallocateChunkBytes`) and grows by a chunk, zero-filled, whenever a
 * write would come within half a chunk of its end, up to `segmentBytes`. Every member of every
 * test cluster starts a WAL, and 64 MiB of zeros each would cost tens of gigabytes per test run;
 * with a lead, the metadata (the file's size) changes once per chunk, and the syncs in between
 * write data only. The torn-tail rule is unchanged: zeros from the last record to the file's end.
 */
import { assert } from '../../bus/assert.js';
import { CorruptedDataError } from '../errors.js';
import type { LoadedRaftLog, RaftLogBatch, RaftLogStorage } from '../raft-log-storage.js';
import type { Entry, HardState, Snapshot, SnapshotMeta } from '../raft/types.js';
import { checkWalLimits, walLimits } from './limits.js';
import { LogReplay } from './log-replay.js';
import { RecordBuffer, RecordType, segmentFormatVersion } from './record.js';
import { repairTail, scanSegment } from './segment-scan.js';
import { hex16, parseSnapshotFileName, readSnapshotFile, snapshotFileName, writeSnapshotFile } from './snapshot-file.js';
import type { WalFiles } from './wal-files.js';

export interface WalLogOptions {
  /** Pre-allocated size of a segment (default walLimits.segmentBytes). */
  readonly segmentBytes?: number;
  /** Told of each repair `load` makes (a torn tail zeroed, leftover files removed), for the member's log. */
  readonly onRepair?: (message: string) => void;
}

interface Segment {
  readonly sequence: number;
  readonly startsAfter: number;
  readonly name: string;
}

const segmentPattern = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;
const emptyHardState: HardState = { term: 0, vote: null, commit: 0 };

export class WalLog implements RaftLogStorage {
  private readonly segmentBytes: number;
  private readonly onRepair: (message: string) => void;
  private readonly buffer = new RecordBuffer();
  private segments: Segment[] = [];
  /** Where the next record goes in the last segment, where that segment must end, and its file's size. */
  private writeOffset = 0;
  private segmentEnd = 0;
  private fileBytes = 0;
  /** Written to the last segment since its last sync. */
  private unsynced = false;
  private hardState: HardState = emptyHardState;
  private snapshot: SnapshotMeta | null = null;
  /** terms[i] is the term of the entry at snapshotIndex + 1 + i. */
  private terms: number[] = [];
  private zeros: Uint8Array | null = null;
  private loaded = false;

  constructor(private readonly files: WalFiles, options: WalLogOptions = {}) {
    this.segmentBytes = options.segmentBytes ?? walLimits.segmentBytes;
    this.onRepair = options.onRepair ?? (() => {});
    checkWalLimits(this.segmentBytes);
  }

  load(): LoadedRaftLog {
    assert(!this.loaded, 'WalLog.load runs once');
    this.loaded = true;
    this.removeLeftovers();
    this.segments = this.listSegments();
    if (this.segments.length === 0) {
      this.startSegment({ sequence: 0, startsAfter: 0, name: segmentName(0, 0) }, true);
      return { hardState: this.hardState, snapshot: null, entries: [] };
    }
    const replay = new LogReplay();
    let headerMissing = false;
    for (const [position, segment] of this.segments.entries()) {
      headerMissing = this.replaySegment(segment, position === this.segments.length - 1, replay);
    }
    const entries = replay.finish();
    this.hardState = replay.hardState;
    this.snapshot = replay.snapshot;
    this.terms = entries.map((entry) => entry.term);
    const snapshot = this.snapshot === null ? null : readSnapshotFile(this.files, this.snapshot);
    if (headerMissing) {
      // The power went before the new segment's header reached the disk: write it now.
      this.buffer.begin(this.current.sequence, 0, this.segmentEnd);
      this.addHeader(this.current);
    }
    // What a killed process wrote but never synced is in the page cache, and we just read it as
    // the log: make it durable before the member acts on it (acknowledges it, votes by it), and
    // before a rollover (which syncs only what this process wrote) could put later records after it.
    this.unsynced = true;
    this.flush(true);
    this.files.syncDirectory();
    this.release();
    return { hardState: this.hardState, snapshot, entries };
  }

  save(batch: RaftLogBatch, options: { readonly sync: boolean }): void {
    assert(this.loaded, 'WalLog.save before load');
    this.buffer.begin(this.current.sequence, this.writeOffset, this.segmentEnd);
    if (batch.snapshot !== null) {
      writeSnapshotFile(this.files, batch.snapshot);
      this.add(() => this.buffer.addSnapshot((batch.snapshot as Snapshot).meta, true));
      this.snapshot = batch.snapshot.meta;
      this.terms = [];
    }
    for (const entry of batch.entries) {
      if (!this.buffer.addEntry(entry)) this.add(() => this.buffer.addEntry(entry));
      this.noteEntry(entry);
    }
    if (batch.hardState !== null) {
      const hardState = batch.hardState;
      this.add(() => this.buffer.addHardState(hardState));
      this.hardState = hardState;
    }
    this.flush(options.sync || batch.snapshot !== null);
    if (batch.snapshot !== null) this.release();
  }

  saveLocalSnapshot(snapshot: Snapshot): void {
    assert(this.loaded, 'WalLog.saveLocalSnapshot before load');
    const { index, term } = snapshot.meta;
    assert(index >= this.snapshotIndex() && index <= this.lastIndex(), () => `local snapshot at ${index} outside the log [${this.snapshotIndex()}, ${this.lastIndex()}]`);
    assert(this.term(index) === term || index === this.snapshotIndex(), () => `local snapshot at ${index} has term ${term}, the log has ${this.term(index)}`);
    writeSnapshotFile(this.files, snapshot);
    this.buffer.begin(this.current.sequence, this.writeOffset, this.segmentEnd);
    this.add(() => this.buffer.addSnapshot(snapshot.meta, false));
    this.terms.splice(0, index - this.snapshotIndex());
    this.snapshot = snapshot.meta;
    this.flush(true);
    this.release();
  }

  firstIndex(): number {
    return this.snapshotIndex() + 1;
  }

  lastIndex(): number {
    return this.snapshotIndex() + this.terms.length;
  }

  term(index: number): number | null {
    const base = this.snapshotIndex();
    if (index === base) return this.snapshot === null ? null : this.snapshot.term;
    if (index < base || index > base + this.terms.length) return null;
    return this.terms[index - base - 1] ?? null;
  }

  close(): void {
    this.files.close();
  }

  private snapshotIndex(): number {
    return this.snapshot?.index ?? 0;
  }

  private get current(): Segment {
    return this.segments[this.segments.length - 1] as Segment;
  }

  private noteEntry(entry: Entry): void {
    const base = this.snapshotIndex();
    assert(entry.index > base && entry.index <= this.lastIndex() + 1, () => `entry ${entry.index} does not follow the log (${base}, ${this.lastIndex()}]`);
    this.terms.length = entry.index - base - 1;
    this.terms.push(entry.term);
  }

  /** Adds a record; when the segment has no room, writes what the buffer holds, syncs and rolls first. */
  private add(record: () => boolean): void {
    if (record()) return;
    this.flush(true);
    this.roll();
    assert(record(), () => `a wal record does not fit in an empty segment of ${this.segmentEnd} bytes`);
  }

  private flush(sync: boolean): void {
    if (this.buffer.length > 0) {
      this.grow(this.writeOffset + this.buffer.length);
      this.files.write(this.current.name, this.writeOffset, this.buffer.contents);
      this.writeOffset += this.buffer.length;
      this.unsynced = true;
      this.buffer.begin(this.current.sequence, this.writeOffset, this.segmentEnd);
    }
    if (sync && this.unsynced) {
      this.files.sync(this.current.name);
      this.unsynced = false;
    }
  }

  /** Starts the next segment (the previous one is synced) with its header. */
  private roll(): void {
    const next = { sequence: this.current.sequence + 1, startsAfter: this.lastIndex(), name: segmentName(this.current.sequence + 1, this.lastIndex()) };
    this.startSegment(next, false);
  }

  private startSegment(segment: Segment, writeNow: boolean): void {
    // Created under its final name: if the power goes before its header is synced, `load` finds a
    // last segment without records and writes the header then.
    this.files.create(segment.name, 0);
    this.files.syncDirectory();
    this.segments.push(segment);
    this.writeOffset = 0;
    this.fileBytes = 0;
    this.segmentEnd = this.segmentBytes;
    this.buffer.begin(segment.sequence, 0, this.segmentEnd);
    this.addHeader(segment);
    if (writeNow) this.flush(true);
  }

  private addHeader(segment: Segment): void {
    const fits = this.buffer.addSegmentHeader(segment.sequence, segment.startsAfter) && this.buffer.addHardState(this.hardState) && (this.snapshot === null || this.buffer.addSnapshot(this.snapshot, false));
    assert(fits, 'a segment header does not fit in an empty segment');
  }

  /**
   * Zero-fills the current segment's file ahead of a write ending at `end`, so that at least half a
   * chunk of zeros stays past it: a chunk at a time (more for a batch larger than that), never past
   * the segment's end. The zeros go in before the data (both reach the disk with the save's sync).
   */
  private grow(end: number): void {
    const chunk = walLimits.preallocateChunkBytes;
    if (end + chunk / 2 <= this.fileBytes || this.fileBytes >= this.segmentEnd) return;
    const target = Math.min(this.segmentEnd, Math.max(this.fileBytes + chunk, Math.ceil((end + chunk / 2) / chunk) * chunk));
    this.zeros ??= new Uint8Array(chunk);
    for (let at = Math.max(this.fileBytes, end); at < target; at += chunk) this.files.write(this.current.name, at, this.zeros.subarray(0, Math.min(chunk, target - at)));
    this.fileBytes = Math.max(target, end);
  }

  /** Replays one segment into `replay`; true when it is the last one and has no header yet. */
  private replaySegment(segment: Segment, last: boolean, replay: LogReplay): boolean {
    const bytes = this.files.read(segment.name);
    const scan = scanSegment(bytes, { file: segment.name, sequence: segment.sequence, last, recordBytesMax: walLimits.recordBytesMax + 64 });
    if (last) {
      this.writeOffset = scan.end;
      this.fileBytes = bytes.length;
      this.segmentEnd = Math.max(bytes.length, this.segmentBytes);
      if (scan.torn !== null) {
        repairTail(this.files, segment.name, scan.end, scan.torn.endBytes);
        this.onRepair(`wal: ${segment.name}: a torn last record at byte ${scan.end} (${scan.torn.reason}; a write the power cut short before its sync) was truncated`);
      }
      if (scan.records.length === 0) return true;
    }
    const [header, ...rest] = scan.records;
    const decoded = header?.decoded;
    if (decoded?.type !== RecordType.segmentHeader) throw new CorruptedDataError(`${segment.name} at byte 0`, 'the segment does not start with its header');
    if (decoded.version !== segmentFormatVersion) throw new CorruptedDataError(`${segment.name} at byte 0`, `unknown segment format ${decoded.version}`);
    if (decoded.sequence !== segment.sequence || decoded.startsAfter !== segment.startsAfter) throw new CorruptedDataError(`${segment.name} at byte 0`, `its header says sequence ${decoded.sequence} after index ${decoded.startsAfter}, unlike its name`);
    for (const { decoded: record, offset } of rest) {
      if (record.type === RecordType.entry) replay.entry(record.entry, `${segment.name} at byte ${offset}`);
      else if (record.type === RecordType.hardState) replay.hardState = record.hardState;
      else if (record.type === RecordType.snapshot) replay.marker(record.meta, record.received);
      else throw new CorruptedDataError(`${segment.name} at byte ${offset}`, 'a segment header in the middle of a segment');
    }
    return false;
  }

  private listSegments(): Segment[] {
    const segments: Segment[] = [];
    for (const name of this.files.list()) {
      const match = segmentPattern.exec(name);
      if (match) segments.push({ sequence: parseInt(match[1] as string, 16), startsAfter: parseInt(match[2] as string, 16), name });
    }
    segments.sort((a, b) => a.sequence - b.sequence);
    for (let i = 1; i < segments.length; i++) {
      const [previous, segment] = [segments[i - 1] as Segment, segments[i] as Segment];
      if (segment.sequence !== previous.sequence + 1) throw new CorruptedDataError(segment.name, `segment ${previous.sequence + 1} between ${previous.name} and it is missing`);
    }
    return segments;
  }

  /** Files a crash left half-made: a snapshot being written. */
  private removeLeftovers(): void {
    const leftovers = this.files.list().filter((name) => name.endsWith('.tmp'));
    for (const name of leftovers) this.files.remove(name);
    if (leftovers.length > 0) {
      this.files.syncDirectory();
      this.onRepair(`wal: removed files a crash left unfinished: ${leftovers.join(', ')}`);
    }
  }

  /**
   * Removes the segments wholly covered by the snapshot (every entry in segment j has an index at
   * most the next segment's `startsAfter`; that segment restates the hard state and the marker),
   * and the snapshot files other than the latest and the one before it.
   */
  private release(): void {
    const covered = this.snapshotIndex();
    let removed = 0;
    while (removed + 1 < this.segments.length && (this.segments[removed + 1] as Segment).startsAfter <= covered) removed++;
    const doomed = this.segments.slice(0, removed).map((segment) => segment.name);
    this.segments = this.segments.slice(removed);
    const latest = this.snapshot === null ? null : snapshotFileName(this.snapshot);
    const older = this.files
      .list()
      .map((name) => ({ name, parsed: parseSnapshotFileName(name) }))
      .filter((file) => file.parsed !== null && file.name !== latest)
      .sort((a, b) => (b.parsed?.index ?? 0) - (a.parsed?.index ?? 0) || (b.parsed?.term ?? 0) - (a.parsed?.term ?? 0));
    // Keep one generation older than the latest; a file past the latest never got its marker (a crash between).
    const keptOlder = older.filter((file) => (file.parsed?.index ?? 0) <= covered).slice(0, walLimits.snapshotFilesKept - 1);
    for (const file of older) if (!keptOlder.includes(file)) doomed.push(file.name);
    for (const name of doomed) this.files.remove(name);
    if (doomed.length > 0) this.files.syncDirectory();
  }
}

function segmentName(sequence: number, startsAfter: number): string {
  return `${hex16(sequence)}-${hex16(startsAfter)}.wal`;
}
