/**
 * The MVCC snapshot is written by hand into one buffer (table-snapshot.ts) in the msgpack form it
 * always had, `[format, [key, value, ...]]`: decoded it must equal that structure built from the
 * table the old way (bin 8/16/32 lengths included), a snapshot in the old bytes (msgpackr's own)
 * must still restore, and restoring the new one must reproduce the hash.
 */
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../store/memory-backend.js';
import { MvccStore } from '../../store/mvcc/index.js';
import { storeOn } from './harness.js';

describe('MVCC snapshot bytes', () => {
  it('decode to the records in table order and restore to the same hash; old-format bytes restore too', () => {
    const s = storeOn();
    s.put('a', 'x');
    s.apply({ type: 'put', request: { key: 'b', value: new Uint8Array(300).fill(7) } });
    s.apply({ type: 'put', request: { key: 'c', value: new Uint8Array(70_000).fill(9) } });
    s.del('a');
    s.put('d', 'y');
    const records: Uint8Array[] = [];
    for (const entry of s.backend.table('mvcc').range({})) records.push(Uint8Array.from(entry.key), Uint8Array.from(entry.value));
    const decoded = unpack(s.store.snapshotData()) as [number, Uint8Array[]];
    expect(decoded[0]).toBe(1);
    expect(decoded[1].length).toBe(records.length);
    decoded[1].forEach((record, i) => expect(Buffer.from(record).equals(Buffer.from(records[i] as Uint8Array))).toBe(true));
    for (const data of [s.store.snapshotData(), pack([1, records])]) {
      const backend = new MemoryBackend();
      const copy = new MvccStore(backend.table('mvcc'));
      backend.writeSync(() => copy.restore(data));
      expect(copy.hash()).toBe(s.store.hash());
    }
  });
});
