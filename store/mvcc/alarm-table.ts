/**
 * Raised alarms in the MVCC table, so they are replicated state: every member refuses the same
 * commands at the same log index (etcd's NOSPACE alarm, applied through Raft). One record per
 * (alarm, member) under the meta space: `m alarm/<alarm>/<member> → [usedBytes, quotaBytes]`.
 *
 * Decision: the refusal carries the figures the raising member measured and wrote into the log,
 * never what the applying member measures now: the refusal is remembered in the dedup table and
 * hashed, so it must be byte-identical on every member.
 *
 * Decision: whether a NOSPACE alarm is raised is remembered between commands (`nospace`), because
 * every put asks and a range scan per put was a tenth of a member's CPU at 256 clients (lmdb-js
 * builds a cursor and an iterator for each). It is only ever filled from the table and dropped by
 * every change this object makes (raise, disarm) and by `forget()` (a restored snapshot), so it
 * always equals what the table says. The one way it could not: a transaction that raised or
 * disarmed, then asked, then aborted. Apply transactions never abort and go on (a refusal is
 * thrown before any write; anything else fails the member, which then starts from the disk with a
 * new MvccStore), so that cannot happen while this object is in use.
 */
import { pack, unpack } from 'msgpackr';
import type { KvTable } from '../backend.js';
import { CorruptedDataError, StorageFullError } from '../errors.js';
import { concat, keyString, prefixEnd, space } from './key-layout.js';
import type { AlarmInfo, WriteCommand } from './types.js';

const encoder = new TextEncoder();
const alarmPrefix = concat([space.meta], encoder.encode('alarm/'));

function alarmKey(alarm: AlarmInfo): Uint8Array {
  return concat(alarmPrefix, encoder.encode(`${alarm.alarm}/${alarm.member}`));
}

/**
 * Commands that make the data grow: refused while a NOSPACE alarm is raised. Deletes, compaction,
 * lease revocation and checkpoints (same size) and alarm commands go through, so space can be
 * freed and the alarm cleared (etcd refuses the same: puts, txns with a put, lease grants).
 */
export function addsData(command: WriteCommand): boolean {
  switch (command.type) {
    case 'put':
    case 'leaseGrant':
      return true;
    case 'txn': {
      const hasPut = (ops: unknown): boolean => Array.isArray(ops) && ops.some((op) => (op as { type?: unknown } | null)?.type === 'put');
      return hasPut(command.request?.success) || hasPut(command.request?.failure);
    }
    default:
      return false;
  }
}

export class AlarmTable {
  /** The first NOSPACE alarm as the table holds it, `undefined` for none; `null` until read. */
  private nospace: AlarmInfo | undefined | null = null;

  constructor(private readonly table: KvTable) {}

  /** The table was replaced under this object (a snapshot restored): read it again when asked. */
  forget(): void {
    this.nospace = null;
  }

  /** Every raised alarm, in key order (alarm, then member): the same list on every member. */
  list(): AlarmInfo[] {
    const alarms: AlarmInfo[] = [];
    const end = prefixEnd(alarmPrefix) as Uint8Array;
    for (const entry of this.table.range({ start: alarmPrefix, end })) {
      const name = keyString(entry.key.subarray(alarmPrefix.length));
      const slash = name.indexOf('/');
      const fields = unpack(entry.value) as unknown;
      if (slash < 0 || !Array.isArray(fields) || fields.length !== 2 || !fields.every((n) => Number.isSafeInteger(n))) {
        throw new CorruptedDataError('mvcc alarm', `malformed alarm record ${name}`);
      }
      alarms.push({ alarm: name.slice(0, slash) as AlarmInfo['alarm'], member: name.slice(slash + 1), usedBytes: fields[0] as number, quotaBytes: fields[1] as number });
    }
    return alarms;
  }

  raise(alarm: AlarmInfo): void {
    this.nospace = null;
    this.table.put(alarmKey(alarm), pack([alarm.usedBytes, alarm.quotaBytes]));
  }

  /** Clears every alarm (etcd's `alarm disarm`); a member still over its quota raises it again. */
  disarm(): void {
    this.nospace = null;
    const end = prefixEnd(alarmPrefix) as Uint8Array;
    const keys = [...this.table.range({ start: alarmPrefix, end })].map((entry) => Uint8Array.from(entry.key));
    for (const key of keys) this.table.remove(key);
  }

  /** Throws StorageFullError, with the first alarm's recorded figures, when a NOSPACE alarm is raised. */
  refuseIfRaised(): void {
    if (this.nospace === null) this.nospace = this.list().find((alarm) => alarm.alarm === 'nospace');
    const raised = this.nospace;
    if (raised !== undefined) throw new StorageFullError(raised.usedBytes, raised.quotaBytes, raised.member);
  }
}
