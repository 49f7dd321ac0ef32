/**
 * A snapshot's own file: `snap-<term>-<index>.snap` (16 hex digits each, so names sort by term
 * then index), written to a `.tmp` name, synced, renamed and the directory synced, so a file under
 * its final name is always complete. Layout: `[u32 magic][u32 CRC-32C of the rest][u8 version]
 * [u64 index][u64 term][u32 conf bytes][conf msgpack][data]`.
 *
 * Decision: the data stays out of the segments: a snapshot is the whole state machine (up to the
 * quota), far larger than a record, and the segments that precede it are released once it is
 * written, while the file lives until two newer snapshots exist.
 */
import { pack, unpack } from 'msgpackr';
import { crc32c } from '../checksum.js';
import { CorruptedDataError } from '../errors.js';
import type { ConfState, Snapshot, SnapshotMeta } from '../raft/types.js';
import { getU64, setU64 } from './record.js';
import type { WalFiles } from './wal-files.js';

const magic = 0x4b534e50; // "KSNP"
const version = 1;
const fixedBytes = 29;
const namePattern = /^snap-([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;

export function snapshotFileName(meta: { readonly term: number; readonly index: number }): string {
  return `snap-${hex16(meta.term)}-${hex16(meta.index)}.snap`;
}

export function parseSnapshotFileName(name: string): { readonly term: number; readonly index: number } | null {
  const match = namePattern.exec(name);
  return match ? { term: parseInt(match[1] as string, 16), index: parseInt(match[2] as string, 16) } : null;
}

export function hex16(value: number): string {
  return value.toString(16).padStart(16, '0');
}

export function writeSnapshotFile(files: WalFiles, snapshot: Snapshot): void {
  const conf = pack({ voters: snapshot.meta.conf.voters, learners: snapshot.meta.conf.learners });
  const head = new Uint8Array(fixedBytes + conf.length);
  const view = new DataView(head.buffer);
  view.setUint32(0, magic, true);
  head[8] = version;
  setU64(view, 9, snapshot.meta.index);
  setU64(view, 17, snapshot.meta.term);
  view.setUint32(25, conf.length, true);
  head.set(conf, fixedBytes);
  view.setUint32(4, crc32c(snapshot.data, crc32c(head.subarray(8))), true);
  const name = snapshotFileName(snapshot.meta);
  const temporary = `${name}.tmp`;
  if (files.list().includes(temporary)) files.remove(temporary);
  files.create(temporary, 0);
  files.write(temporary, 0, head);
  files.write(temporary, head.length, snapshot.data);
  files.sync(temporary);
  files.rename(temporary, name);
  files.syncDirectory();
}

/** The snapshot a marker names, verified; CorruptedDataError when missing, damaged or not the one named. */
export function readSnapshotFile(files: WalFiles, meta: SnapshotMeta): Snapshot {
  const name = snapshotFileName(meta);
  if (!files.list().includes(name)) throw new CorruptedDataError(name, `the log's latest snapshot marker (index ${meta.index}, term ${meta.term}) names this file, which is missing`);
  const bytes = files.read(name);
  if (bytes.length < fixedBytes) throw new CorruptedDataError(name, `${bytes.length} bytes, shorter than a snapshot header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== magic) throw new CorruptedDataError(`${name} at byte 0`, 'not a snapshot file (bad magic number)');
  const stored = view.getUint32(4, true);
  const actual = crc32c(bytes.subarray(8));
  if (stored !== actual) throw new CorruptedDataError(name, `checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)})`);
  if (bytes[8] !== version) throw new CorruptedDataError(`${name} at byte 8`, `unknown snapshot format ${bytes[8]}`);
  const index = getU64(view, 9);
  const term = getU64(view, 17);
  if (index !== meta.index || term !== meta.term) throw new CorruptedDataError(name, `holds the snapshot at index ${index} term ${term}, not the one its name says`);
  const confBytes = view.getUint32(25, true);
  if (fixedBytes + confBytes > bytes.length) throw new CorruptedDataError(`${name} at byte 25`, `configuration of ${confBytes} bytes runs past the file's end`);
  const conf = unpack(bytes.subarray(fixedBytes, fixedBytes + confBytes)) as ConfState;
  // The marker's configuration is the one the log agreed on; the file's must match it.
  if (JSON.stringify(conf) !== JSON.stringify({ voters: meta.conf.voters, learners: meta.conf.learners })) throw new CorruptedDataError(name, 'its configuration differs from the log marker that names it');
  return { meta, data: bytes.slice(fixedBytes + confBytes) };
}
