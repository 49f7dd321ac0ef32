/**
 * Key checks count UTF-8 bytes in one pass over the characters (key-layout.ts `utf8Length`)
 * instead of encoding and decoding each key: the count must equal TextEncoder's for every kind of
 * character, and a lone surrogate (which UTF-8 cannot carry) must still be refused, as must a key
 * over the byte limit by its UTF-8 length, not its character count. Table keys are built byte by
 * byte: they must equal the layout's definition (big-endian revision after `h key 0x00`, `r`
 * rev(8) sub(4)) for revisions across the whole 2^53 range, so stores written before still read.
 */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../store/errors.js';
import { checkStorableKey, historyKey, readUint64, revisionKey, uint64Bytes, utf8Length } from '../../store/mvcc/key-layout.js';

const encoder = new TextEncoder();

describe('key byte counts', () => {
  it('equal TextEncoder\'s for ASCII, 2-, 3- and 4-byte characters', () => {
    for (const key of ['a', '/registry/pods/default/web-0', 'é', 'ß/ü', '日本', '\u07ff\u0800\uffff', '😀', 'a😀b\u{10ffff}', '\ud7ff\ue000']) {
      expect(utf8Length(key)).toBe(encoder.encode(key).length);
    }
  });

  it('refuse lone surrogates and keys over the limit in bytes', () => {
    for (const key of ['\ud800', 'a\udc00', '\ud83d', '\ud83dx', 'x\ude00\ud83d']) {
      expect(utf8Length(key)).toBe(-1);
      expect(() => checkStorableKey(key, 4_096)).toThrow(InvalidRequestError);
    }
    expect(() => checkStorableKey('é'.repeat(3), 5)).toThrow(/6 bytes exceeds the limit of 5/);
    expect(() => checkStorableKey('é'.repeat(2), 4)).not.toThrow();
  });

  it('build history and revision keys as the layout defines them, over the whole revision range', () => {
    const definition = (value: number): number[] => {
      const view = new DataView(new ArrayBuffer(8));
      view.setBigUint64(0, BigInt(value));
      return [...new Uint8Array(view.buffer)];
    };
    const key = encoder.encode('/registry/pods/a');
    for (const revision of [0, 1, 255, 256, 0xffffffff, 0x100000000, 2 ** 40 + 7, Number.MAX_SAFE_INTEGER]) {
      expect([...uint64Bytes(revision)]).toEqual(definition(revision));
      expect(readUint64(Uint8Array.of(9, ...definition(revision)), 1)).toBe(revision);
      expect([...historyKey(key, revision)]).toEqual([0x68, ...key, 0, ...definition(revision)]);
      expect([...revisionKey(revision, 0x01020304)]).toEqual([0x72, ...definition(revision), 1, 2, 3, 4]);
    }
  });
});
