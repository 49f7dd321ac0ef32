/**
 * Writes the changes of one revision: each put or delete adds a history record, updates the
 * latest record and lease attachments, and appends a revision-log record numbered in apply order
 * (`sub`), which is what watchers replay. The caller checked the request first; this only writes.
 *
 * Decision: the revision is taken, not allocated: the writer is made with `current + 1` and the
 * store advances its meta revision only if `changed()`, so a delete of nothing or a txn of reads
 * leaves the revision where it was (etcd's rule).
 */
import type { KvTable } from '../backend.js';
import { byteRange, historyKey, keyBytes, keyString, latestBounds, latestKey, revisionKey } from './key-layout.js';
import type { KeyReader } from './key-reader.js';
import type { LeaseTable } from './lease-table.js';
import { decodeKey, encodeEvent, encodeKey, toKeyValue, tombstone, type StoredKey } from './records.js';
import type { KeyRange, KeyValue, PutRequest, WatchEvent } from './types.js';

export class RevisionWriter {
  readonly events: WatchEvent[] = [];

  constructor(
    private readonly table: KvTable,
    private readonly parts: { readonly reader: KeyReader; readonly leases: LeaseTable },
    readonly revision: number,
  ) {}

  changed(): boolean {
    return this.events.length > 0;
  }

  /** Returns the key before the put. */
  put(request: PutRequest): KeyValue | null {
    // The key's bytes and table key are built once for the read and both writes.
    const bytes = keyBytes(request.key);
    const latest = latestKey(bytes);
    const previous = this.parts.reader.latestAt(latest, request.key);
    const lease = request.ignoreLease === true ? (previous?.lease ?? 0) : (request.lease ?? 0);
    const record: StoredKey = {
      createRevision: previous?.createRevision ?? this.revision,
      modRevision: this.revision,
      version: (previous?.version ?? 0) + 1,
      lease,
      value: Uint8Array.from(request.value),
    };
    const encoded = encodeKey(record);
    this.table.put(historyKey(bytes, this.revision), encoded);
    this.table.put(latest, encoded);
    if (previous !== null && previous.lease !== 0 && previous.lease !== lease) this.parts.leases.detach(previous.lease, request.key);
    if (lease !== 0 && previous?.lease !== lease) this.parts.leases.attach(lease, request.key);
    this.log({ type: 'put', kv: toKeyValue(request.key, record), prevKv: previous });
    return previous;
  }

  /** Deletes every live key in the range; returns them as they were. */
  deleteRange(range: KeyRange): KeyValue[] {
    // Collected first: the scan must not run over records this loop removes.
    const doomed: KeyValue[] = [];
    for (const entry of this.table.range(latestBounds(byteRange(range)))) {
      const key = keyString(entry.key.subarray(1));
      doomed.push(toKeyValue(key, decodeKey(entry.value, `latest ${key}`)));
    }
    for (const kv of doomed) this.deleteKey(kv);
    return doomed;
  }

  deleteKey(previous: KeyValue): void {
    const bytes = keyBytes(previous.key);
    this.table.put(historyKey(bytes, this.revision), tombstone);
    this.table.remove(latestKey(bytes));
    if (previous.lease !== 0) this.parts.leases.detach(previous.lease, previous.key);
    const kv: KeyValue = { key: previous.key, value: new Uint8Array(0), createRevision: 0, modRevision: this.revision, version: 0, lease: 0 };
    this.log({ type: 'delete', kv, prevKv: previous });
  }

  private log(event: WatchEvent): void {
    this.table.put(revisionKey(this.revision, this.events.length), encodeEvent({ type: event.type, key: event.kv.key }));
    this.events.push(event);
  }
}
