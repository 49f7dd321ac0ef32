/**
 * Lease records and key attachments in the MVCC table. A lease is `l id → {ttl, remaining}`; each
 * attached key also has an `a id key` record, so revoking a lease scans only its own keys, and the
 * key's own record names its lease, so a put or delete finds what to detach.
 *
 * Decision: granting, checkpointing and revoking a lease with no keys do not advance the revision
 * (etcd's rule: the revision counts key-space changes). They still change the table, hence the
 * hash, so members still agree on them byte for byte.
 */
import type { KvTable } from '../backend.js';
import { attachmentKey, attachmentStart, keyBytes, keyString, leaseKey, readUint64, space, spaceEnd, spaceStart } from './key-layout.js';
import { decodeLease, encodeLease, type StoredLease } from './records.js';
import type { LeaseInfo } from './types.js';

const empty = new Uint8Array(0);

export class LeaseTable {
  constructor(private readonly table: KvTable) {}

  get(id: number): StoredLease | null {
    const bytes = this.table.get(leaseKey(id));
    return bytes === undefined ? null : decodeLease(bytes, `lease ${id}`);
  }

  put(id: number, lease: StoredLease): void {
    this.table.put(leaseKey(id), encodeLease(lease));
  }

  remove(id: number): void {
    this.table.remove(leaseKey(id));
  }

  attach(id: number, key: string): void {
    this.table.put(attachmentKey(id, keyBytes(key)), empty);
  }

  detach(id: number, key: string): void {
    this.table.remove(attachmentKey(id, keyBytes(key)));
  }

  /** Attached keys in key order. */
  keys(id: number): string[] {
    const start = attachmentStart(id);
    const end = id === Number.MAX_SAFE_INTEGER ? spaceEnd(space.attachment) : attachmentStart(id + 1);
    const keys: string[] = [];
    for (const entry of this.table.range({ start, end })) keys.push(keyString(entry.key.subarray(start.length)));
    return keys;
  }

  /** Every lease in id order. */
  list(options: { withKeys?: boolean } = {}): LeaseInfo[] {
    const leases: LeaseInfo[] = [];
    for (const entry of this.table.range({ start: spaceStart(space.lease), end: spaceEnd(space.lease) })) {
      const id = readUint64(entry.key, 1);
      const lease = decodeLease(entry.value, `lease ${id}`);
      const info: LeaseInfo = { id, ttlMs: lease.ttlMs, remainingMs: lease.remainingMs };
      leases.push(options.withKeys === true ? { ...info, keys: this.keys(id) } : info);
    }
    return leases;
  }
}
