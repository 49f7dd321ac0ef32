/**
 * The NOSPACE alarm in the state machine: raised through the log, it makes every member refuse
 * the same commands at apply (puts, txns with a put in either branch, lease grants) with a
 * StorageFullError carrying the figures recorded in the alarm, never the applying member's own;
 * deletes, delete-only txns, compaction and lease revocation still apply, so space can be freed;
 * disarm clears it. Alarms are part of the hashed state. Whether one is raised is remembered
 * between commands, so the last test checks that a restored snapshot (either way) and a raise or
 * disarm in the same transaction as puts are seen at once.
 */
import { describe, expect, it } from 'vitest';
import { StorageFullError } from '../../store/errors.js';
import type { WriteCommand } from '../../store/mvcc/types.js';
import { MvccStore } from '../../store/mvcc/index.js';
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

  it('sees an alarm raised or cleared by a restored snapshot or earlier in the same transaction', () => {
    const raised = storeOn();
    raised.apply(raise);
    const withAlarm = raised.store.snapshotData();
    const clear = storeOn();
    expect(clear.put('a', '1')).toMatchObject({ revision: 1 });
    clear.backend.writeSync(() => clear.store.restore(withAlarm));
    expect(clear.applyKeepingRefusals({ type: 'put', request: { key: 'b', value: text('2') } })).toBeInstanceOf(StorageFullError);
    clear.backend.writeSync(() => clear.store.restore(storeOn().store.snapshotData()));
    expect(clear.put('b', '2')).toMatchObject({ revision: 1 });
    // One transaction, as the driver applies a batch: raise, refuse, disarm, accept.
    const put = { type: 'put', request: { key: 'c', value: text('3') } } as const;
    const outcomes = clear.backend.writeSync(() => {
      const store = clear.store;
      const attempt = (): unknown => {
        try {
          return store.apply(put);
        } catch (error) {
          return error;
        }
      };
      const first = attempt();
      store.apply(raise);
      const second = attempt();
      store.apply({ type: 'alarmDisarm' });
      return [first, second, attempt()];
    });
    expect(outcomes[0]).toMatchObject({ revision: 2 });
    expect(outcomes[1]).toBeInstanceOf(StorageFullError);
    expect(outcomes[2]).toMatchObject({ revision: 3 });
    // A second object over the same table (a restart) reads the table afresh.
    expect(new MvccStore(clear.backend.table('mvcc')).alarms()).toEqual([]);
  });
});
