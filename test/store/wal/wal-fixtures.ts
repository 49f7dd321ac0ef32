/** Entries, batches and snapshots for the WAL tests. */
import type { RaftLogBatch } from '../../../store/raft-log-storage.js';
import type { Entry, HardState, Snapshot } from '../../../store/raft/types.js';
import { walLimits } from '../../../store/wal/index.js';

/** The smallest segment the WAL accepts: rollover after a few large entries. */
export const smallSegmentBytes = walLimits.segmentBytesMin;

export function entry(index: number, term: number, dataBytes = 8): Entry {
  const data = new Uint8Array(dataBytes);
  for (let i = 0; i < dataBytes; i++) data[i] = (index * 31 + term * 7 + i) & 0xff;
  return { index, term, type: 'normal', data };
}

export function entries(from: number, to: number, term: number, dataBytes = 8): Entry[] {
  const out: Entry[] = [];
  for (let index = from; index <= to; index++) out.push(entry(index, term, dataBytes));
  return out;
}

export function batch(parts: { entries?: Entry[]; hardState?: HardState; snapshot?: Snapshot }): RaftLogBatch {
  return { entries: parts.entries ?? [], hardState: parts.hardState ?? null, snapshot: parts.snapshot ?? null };
}

export function snapshot(index: number, term: number, dataBytes = 100): Snapshot {
  const data = new Uint8Array(dataBytes);
  for (let i = 0; i < dataBytes; i++) data[i] = (index + i) & 0xff;
  return { meta: { index, term, conf: { voters: ['s1', 's2', 's3'], learners: [] } }, data };
}
