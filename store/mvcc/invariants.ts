/**
 * Structural invariants of the MVCC table, for tests and the simulation to check after steps
 * (they cost a full scan). A failure is an assertion: the state is impossible, not an operating
 * error.
 *
 * - no history or revision-log record is above the current revision; compact <= current;
 * - a key has a latest record exactly when its last history record is a put, and the two are equal;
 * - lease links agree both ways: a key's lease exists and lists it, a listed key names the lease;
 * - every revision-log record above the compact revision has its history record (a tombstone for
 *   a delete, a put record for a put).
 */
import { assert } from '../../bus/assert.js';
import type { KvTable } from '../backend.js';
import {
  compareBytes, historyKey, keyBytes, keyString, latestKey, metaKeys, parseHistoryKey, parseRevisionKey, readUint64, space, spaceEnd, spaceStart,
} from './key-layout.js';
import { decodeEvent, decodeHistory, decodeKey } from './records.js';
import { LeaseTable } from './lease-table.js';

export function checkMvccInvariants(table: KvTable): void {
  const current = readMeta(table, metaKeys.revision);
  const compact = readMeta(table, metaKeys.compactRevision);
  assert(compact <= current, () => `compact revision ${compact} above current ${current}`);
  const scan = (prefix: (typeof space)[keyof typeof space]) => table.range({ start: spaceStart(prefix), end: spaceEnd(prefix) });
  let group: { key: Uint8Array; revision: number; isPut: boolean } | null = null;
  const closeGroup = (): void => {
    if (group === null) return;
    const { key, revision, isPut } = group;
    const latest = table.get(latestKey(key));
    const name = keyString(key);
    assert(isPut === (latest !== undefined), () => `${name}: last history record at ${revision} is ${isPut ? 'a put' : 'a tombstone'}, latest record ${latest === undefined ? 'missing' : 'present'}`);
    assert(latest === undefined || decodeKey(latest, name).modRevision === revision, () => `${name}: latest record is not its last history record (${revision})`);
  };
  for (const entry of scan(space.history)) {
    const parsed = parseHistoryKey(entry.key);
    assert(parsed.revision >= 1 && parsed.revision <= current, () => `history record at revision ${parsed.revision}, current ${current}`);
    if (group !== null && compareBytes(group.key, parsed.key) !== 0) closeGroup();
    group = { key: Uint8Array.from(parsed.key), revision: parsed.revision, isPut: decodeHistory(entry.value, 'history') !== null };
  }
  closeGroup();
  const leases = new LeaseTable(table);
  for (const entry of scan(space.latest)) {
    const key = keyString(entry.key.subarray(1));
    const latest = decodeKey(entry.value, `latest ${key}`);
    const history = table.get(historyKey(keyBytes(key), latest.modRevision));
    assert(history !== undefined && compareBytes(history, entry.value) === 0, () => `latest ${key} differs from its history at ${latest.modRevision}`);
    if (latest.lease !== 0) {
      assert(leases.get(latest.lease) !== null, () => `${key} names lease ${latest.lease}, which does not exist`);
      assert(leases.keys(latest.lease).includes(key), () => `lease ${latest.lease} does not list ${key}`);
    }
  }
  for (const lease of leases.list({ withKeys: true })) {
    for (const key of lease.keys ?? []) {
      const bytes = table.get(latestKey(keyBytes(key)));
      assert(bytes !== undefined && decodeKey(bytes, key).lease === lease.id, () => `lease ${lease.id} lists ${key}, which is not attached to it`);
    }
  }
  for (const entry of scan(space.revision)) {
    const revision = parseRevisionKey(entry.key);
    assert(revision > compact && revision <= current, () => `revision-log record at ${revision} outside (${compact}, ${current}]`);
    const event = decodeEvent(entry.value, `revision ${revision}`);
    const history = table.get(historyKey(keyBytes(event.key), revision));
    assert(history !== undefined, () => `revision ${revision} names ${event.key}, which has no history record there`);
    assert((decodeHistory(history, event.key) === null) === (event.type === 'delete'), () => `revision ${revision}: ${event.key} history disagrees with a ${event.type}`);
  }
}

function readMeta(table: KvTable, key: Uint8Array): number {
  const bytes = table.get(key);
  return bytes === undefined ? 0 : readUint64(bytes);
}
