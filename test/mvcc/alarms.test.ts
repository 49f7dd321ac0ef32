/**
 * The NOSPACE alarm in the state machine: raised through the log, it makes every member refuse
 * the same commands at apply (puts, txns with a put in either branch, lease grants) with a
 * StorageFullError carrying the figures recorded in the alarm, never the applying member's own;
 * deletes, delete-only txns, compaction and lease revocation still apply, so space can be freed;
 * disarm clears it. Alarms are part of the hashed state.
 */
import { describe, expect, it } from 'vitest';
import { StorageFullError } from '../../store/errors.js';
import type { WriteCommand } from '../../store/mvcc/types.js';
import { storeOn, text } from './harness.js';

const raise: WriteCommand = { type: 'alarmRaise', alarm: { alarm: 'nospace', member: 's2', usedBytes: 5_000, quotaBytes: 4_096 } };

describe('NOSPACE alarm at apply', () => {
  it('refuses writes that add data with the recorded figures, lets space be freed, and clears on disarm', () => {
    const s = storeOn();
    s.put('a', '1');
    s.apply({ type: 'leaseGrant', id: 7, ttlMs: 10_000 });
    const hashBefore = s.store.hash();
    expect(s.apply(raise)).toEqual({ type: 'alarm', revision: 1, alarms: [raise.alarm] });
    expect(s.store.hash()).not.toBe(hashBefore);
    expect(s.store.alarms()).toEqual([raise.alarm]);
    const refusals: WriteCommand[] = [
      { type: 'put', request: { key: 'b', value: text('2') } },
      { type: 'txn', request: { compare: [], success: [{ type: 'delete', request: { key: 'a' } }], failure: [{ type: 'put', request: { key: 'c', value: text('3') } }] } },
      { type: 'leaseGrant', id: 8, ttlMs: 10_000 },
    ];
    for (const command of refusals) {
      const error = s.applyKeepingRefusals(command);
      expect(error).toBeInstanceOf(StorageFullError);
      expect((error as StorageFullError).fields()).toEqual({ usedBytes: 5_000, quotaBytes: 4_096, member: 's2' });
    }
    expect(s.store.currentRevision()).toBe(1);
    expect(s.apply({ type: 'txn', request: { compare: [], success: [{ type: 'range', request: { key: 'a' } }], failure: [] } })).toMatchObject({ succeeded: true });
    expect(s.del('a')).toMatchObject({ type: 'delete', deleted: 1, revision: 2 });
    expect(s.apply({ type: 'compact', revision: 2 })).toMatchObject({ compactRevision: 2 });
    expect(s.apply({ type: 'leaseRevoke', id: 7 })).toMatchObject({ type: 'leaseRevoke' });
    expect(s.apply({ type: 'alarmDisarm' })).toEqual({ type: 'alarm', revision: 2, alarms: [] });
    expect(s.put('b', '2')).toMatchObject({ revision: 3 });
  });

  it('refuses a malformed alarm on every member alike', () => {
    const s = storeOn();
    const bad = { type: 'alarmRaise', alarm: { alarm: 'nospace', member: '', usedBytes: 1, quotaBytes: 1 } } as WriteCommand;
    expect(() => s.apply(bad)).toThrow(/member must be a non-empty string/);
    expect(s.store.alarms()).toEqual([]);
  });
});
