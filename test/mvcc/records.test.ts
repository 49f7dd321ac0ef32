/**
 * Key records are written and read by hand (records.ts) in the bytes msgpackr writes for them, so
 * stores written before keep reading and members agree byte for byte (the hash compares them).
 * How: random records over every integer width msgpackr picks (fixint, uint8/16/32, float64 above
 * 32 bits) and every bin header (8/16/32-bit lengths) encode to msgpackr's exact bytes and decode
 * back; records in shapes the fast reader does not take (msgpackr's own, other widths) still decode.
 */
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../bus/prng.js';
import { decodeKey, encodeKey, type StoredKey } from '../../store/mvcc/records.js';

const widths = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 0x100000000, Number.MAX_SAFE_INTEGER];
const valueLengths = [0, 1, 0xff, 0x100, 0xffff, 0x10000];

function randomRecord(random: Prng): StoredKey {
  const integer = (): number => {
    const pick = widths[random.int(widths.length)] as number;
    return random.int(2) === 0 ? pick : Math.floor(random.float() * pick);
  };
  const length = random.int(4) === 0 ? (valueLengths[random.int(valueLengths.length)] as number) : random.int(600);
  const value = new Uint8Array(length);
  for (let i = 0; i < length; i += 97) value[i] = random.int(256);
  return { createRevision: integer(), modRevision: integer(), version: integer(), lease: integer(), value };
}

describe('key records', () => {
  it('encode to msgpackr\'s exact bytes and decode back, at every integer width and bin header', () => {
    const random = new Prng(14);
    const same = (a: StoredKey, b: StoredKey): boolean =>
      a.createRevision === b.createRevision && a.modRevision === b.modRevision && a.version === b.version && a.lease === b.lease && Buffer.from(a.value).equals(Buffer.from(b.value));
    let mismatches = 0;
    for (let round = 0; round < 500; round++) {
      const record = randomRecord(random);
      const encoded = encodeKey(record);
      const reference = pack([record.createRevision, record.modRevision, record.version, record.lease, record.value]);
      if (!Buffer.from(encoded).equals(Buffer.from(reference))) mismatches++;
      if (!same(decodeKey(encoded, 'test'), record) || !same(decodeKey(reference, 'test'), record)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('decodes a copy that does not share the stored buffer, as a plain Uint8Array', () => {
    const stored = Buffer.from(encodeKey({ createRevision: 3, modRevision: 5, version: 2, lease: 0, value: Uint8Array.of(1, 2, 3) }));
    const decoded = decodeKey(stored, 'test');
    stored.fill(0);
    expect(decoded.value).toEqual(Uint8Array.of(1, 2, 3));
    expect(decoded.value.constructor).toBe(Uint8Array);
  });

  it('still reads records in other msgpack shapes (wider integers than needed) through msgpackr', () => {
    // 0xcb (float64) for 7 and 0xd1 (int16) for 2: valid msgpack another encoder could write.
    const wide = Uint8Array.of(0x95, 0xcb, 0x40, 0x1c, 0, 0, 0, 0, 0, 0, 0x07, 0xd1, 0, 2, 0x00, 0xc4, 0x01, 0x09);
    expect(decodeKey(wide, 'test')).toEqual({ createRevision: 7, modRevision: 7, version: 2, lease: 0, value: Uint8Array.of(9) });
    expect(() => decodeKey(Uint8Array.of(0x95, 0x01), 'test')).toThrow(/mvcc test/);
  });
});
