/**
 * Replays the revision log for watchers: every change in a key range from a revision on, in
 * revision order and, within a revision, in apply order, with the key before each change.
 *
 * Contract of `eventsSince(range, from, limit)`: the result holds every matching event with
 * revision in [from, lastRevision], and nothing after; the caller continues from lastRevision + 1.
 * A revision is never split: the result may exceed `limit` by the rest of the revision that
 * reached it (a txn or a lease revoke is one revision of many events). The scan also stops at a
 * revision boundary after `mvccLimits.eventsScanMax` examined records, so one call does bounded
 * work whatever the range. When the log is exhausted, lastRevision is the current revision.
 */
import type { KvTable } from '../backend.js';
import { CompactedError, CorruptedDataError, InvalidRequestError } from '../errors.js';
import { byteRange, inByteRange, keyBytes, parseRevisionKey, revisionStart, space, spaceEnd } from './key-layout.js';
import type { KeyReader } from './key-reader.js';
import { mvccLimits } from './limits.js';
import { decodeEvent } from './records.js';
import type { KeyRange, KeyValue, WatchEvent } from './types.js';
import { checkRange } from './validate.js';

export interface EventsSince {
  readonly events: WatchEvent[];
  readonly lastRevision: number;
}

export interface RevisionState {
  readonly current: number;
  readonly compact: number;
}

export function eventsSince(
  table: KvTable,
  reader: KeyReader,
  query: { readonly range: KeyRange; readonly fromRevision: number; readonly limit: number },
  revisions: RevisionState,
): EventsSince {
  const { range, fromRevision, limit } = query;
  checkRange(range);
  if (!Number.isSafeInteger(fromRevision) || fromRevision < 0) throw new InvalidRequestError('fromRevision must be a non-negative integer');
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new InvalidRequestError('limit must be a positive integer');
  // Strictly above the compact revision: events at or below it may have been dropped.
  if (fromRevision <= revisions.compact) throw new CompactedError(fromRevision, revisions.compact);
  const bytes = byteRange(range);
  const events: WatchEvent[] = [];
  let scanned = 0;
  let open = -1;
  for (const entry of table.range({ start: revisionStart(fromRevision), end: spaceEnd(space.revision) })) {
    const revision = parseRevisionKey(entry.key);
    if (revision !== open) {
      if (events.length >= limit || scanned >= mvccLimits.eventsScanMax) return { events, lastRevision: revision - 1 };
      open = revision;
    }
    scanned++;
    const stored = decodeEvent(entry.value, `revision ${revision}`);
    if (!inByteRange(keyBytes(stored.key), bytes)) continue;
    const prevKv = reader.at(stored.key, revision - 1);
    events.push({ type: stored.type, kv: eventKv(reader, stored, revision), prevKv });
  }
  return { events, lastRevision: Math.max(revisions.current, open) };
}

function eventKv(reader: KeyReader, stored: { type: 'put' | 'delete'; key: string }, revision: number): KeyValue {
  if (stored.type === 'delete') {
    return { key: stored.key, value: new Uint8Array(0), createRevision: 0, modRevision: revision, version: 0, lease: 0 };
  }
  const kv = reader.writtenAt(stored.key, revision);
  if (kv === null) throw new CorruptedDataError('mvcc history', `the revision log names a put of ${stored.key} at ${revision} that history lacks`);
  return kv;
}
