/**
 * CRC-32C against published check values (RFC 3720 appendix B.4 and the "123456789" check), so a
 * wrong table or a wrong word order in the slicing loop cannot pass; and piecewise seeding.
 */
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../store/checksum.js';

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('crc32c', () => {
  it('matches the standard check values', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
  });

  it('continues from a seed, so pieces sum to the whole (any split, including unaligned)', () => {
    const whole = Uint8Array.from({ length: 103 }, (_, i) => (i * 37 + 11) & 0xff);
    for (const cut of [0, 1, 3, 4, 50, 102, 103]) {
      expect(crc32c(whole.subarray(cut), crc32c(whole.subarray(0, cut)))).toBe(crc32c(whole));
    }
  });

  it('detects a single flipped bit anywhere', () => {
    const data = Uint8Array.from({ length: 64 }, (_, i) => i);
    const original = crc32c(data);
    for (let bit = 0; bit < data.length * 8; bit += 13) {
      const flipped = Uint8Array.from(data);
      flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(crc32c(flipped)).not.toBe(original);
    }
  });

  it('agrees with the bit-at-a-time definition at every length and alignment of the sliced loop', () => {
    const bitwise = (bytes: Uint8Array): number => {
      let crc = 0xffffffff;
      for (const byte of bytes) {
        crc ^= byte;
        for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
      }
      return ~crc >>> 0;
    };
    const data = Uint8Array.from({ length: 80 }, (_, i) => (i * 151 + 29) & 0xff);
    for (let start = 0; start < 8; start++) {
      for (let length = 0; length + start <= data.length; length++) {
        const piece = data.subarray(start, start + length);
        expect(crc32c(piece)).toBe(bitwise(piece));
      }
    }
  });
});
