/**
 * MemoryWalFiles' power-cut model, over many seeds: what was synced always survives; what was
 * written since is lost, kept, or kept as a torn prefix, and only ever a prefix of the writes in
 * order; creations and removals not followed by a directory sync may be undone, also in order.
 * `reopen` (a killed process on a running machine) keeps everything.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../../bus/prng.js';
import { MemoryWalFiles } from '../../../store/wal/index.js';

const seeds = Array.from({ length: 300 }, (_, i) => i + 1);

describe('MemoryWalFiles crash', () => {
  it('keeps synced bytes, and of the later writes a prefix whose last may be torn', () => {
    const outcomes = new Set<string>();
    for (const seed of seeds) {
      const files = new MemoryWalFiles();
      files.create('a', 64);
      files.write('a', 0, new Uint8Array(8).fill(1));
      files.sync('a');
      files.syncDirectory();
      files.write('a', 8, new Uint8Array(8).fill(2));
      files.write('a', 16, new Uint8Array(8).fill(3));
      files.write('a', 64, new Uint8Array(8).fill(4));
      const after = files.crash(new Prng(seed)).read('a');
      expect(after.subarray(0, 8)).toEqual(new Uint8Array(8).fill(1));
      // A prefix of the sequence 2..., 3..., 4...: the first position that is not written ends it.
      const written = [...after.subarray(8)].filter((byte) => byte !== 0);
      const expected = [...new Uint8Array(8).fill(2), ...new Uint8Array(8).fill(3), ...new Uint8Array(8).fill(4)].slice(0, written.length);
      expect(written).toEqual(expected);
      expect(after.length).toBe(written.length > 16 ? 64 + written.length - 16 : 64);
      outcomes.add(written.length % 8 === 0 ? `whole ${written.length / 8}` : 'torn');
    }
    expect([...outcomes].sort()).toEqual(['torn', 'whole 0', 'whole 1', 'whole 2', 'whole 3']);
  });

  it('may keep a write over several sectors without one of them (sectors persist in any order)', () => {
    let holes = 0;
    for (const seed of seeds) {
      const files = new MemoryWalFiles();
      files.create('a', 2048);
      files.sync('a');
      files.syncDirectory();
      files.write('a', 100, new Uint8Array(1800).fill(6));
      const after = files.crash(new Prng(seed)).read('a');
      const sectors = [0, 1, 2, 3].map((sector) => after.subarray(sector * 512, (sector + 1) * 512).some((byte) => byte === 6));
      const firstMissing = sectors.indexOf(false, 0);
      if (firstMissing >= 0 && sectors.slice(firstMissing + 1).some(Boolean)) {
        holes++;
        // Only one sector is missing, whole, and it holds its old bytes (zeros).
        expect(sectors.filter((written) => !written).length).toBe(1);
      }
    }
    expect(holes).toBeGreaterThan(0);
  });

  it('may undo creations, renames and removals not followed by a directory sync, in order', () => {
    const outcomes = new Set<string>();
    for (const seed of seeds) {
      const files = new MemoryWalFiles();
      files.create('old', 4);
      files.sync('old');
      files.syncDirectory();
      files.create('new', 4);
      files.sync('new');
      files.remove('old');
      files.rename('new', 'renamed');
      const names = files.crash(new Prng(seed)).list().sort().join(',');
      outcomes.add(names);
    }
    // Changes: link new, unlink old, unlink new, link renamed: each prefix is a possible outcome.
    expect([...outcomes].sort()).toEqual(['', 'new', 'new,old', 'old', 'renamed'].sort());
  });

  it('after a directory sync and a data sync, a crash changes nothing; reopen keeps unsynced writes', () => {
    for (const seed of seeds.slice(0, 50)) {
      const files = new MemoryWalFiles();
      files.create('a', 16);
      files.write('a', 4, Uint8Array.of(9, 9));
      files.truncate('a', 10);
      files.sync('a');
      files.syncDirectory();
      const crashed = files.crash(new Prng(seed));
      expect(crashed.read('a')).toEqual(Uint8Array.of(0, 0, 0, 0, 9, 9, 0, 0, 0, 0));
      crashed.write('a', 0, Uint8Array.of(5));
      expect(crashed.reopen().read('a', 0, 1)).toEqual(Uint8Array.of(5));
    }
  });

  it('copy() is an independent live handle with the pending writes, and its own options', () => {
    let cuts = 0;
    const files = new MemoryWalFiles({ beforeSync: () => void cuts++ });
    files.create('a', 0);
    files.write('a', 0, Uint8Array.of(1));
    files.sync('a');
    files.syncDirectory();
    files.write('a', 1, Uint8Array.of(2));
    files.create('b', 0);
    const copy = files.copy();
    const hooked = cuts;
    copy.sync('a');
    expect(cuts).toBe(hooked);
    copy.write('a', 0, Uint8Array.of(7));
    expect(files.read('a')).toEqual(Uint8Array.of(1, 2));
    expect(copy.list().sort()).toEqual(['a', 'b']);
    // The original still has its unsynced write and directory change; a crash of it may drop them.
    const outcomes = new Set<string>();
    for (const seed of seeds.slice(0, 40)) {
      const crashed = files.copy().crash(new Prng(seed));
      outcomes.add(`${crashed.read('a').join('')}:${crashed.list().sort().join('')}`);
    }
    expect([...outcomes].sort()).toEqual(['12:a', '12:ab', '1:a', '1:ab']);
    files.write('a', 2, Uint8Array.of(3));
    expect(files.read('a')).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('refuses the old handle after a crash, and lets beforeSync cut the power at a sync', () => {
    const files = new MemoryWalFiles({
      beforeSync: (name) => {
        if (name === 'b') throw new Error('power cut');
      },
    });
    files.create('b', 0);
    files.write('b', 0, Uint8Array.of(1));
    expect(() => files.sync('b')).toThrow('power cut');
    files.syncDirectory();
    const crashed = files.crash(new Prng(1));
    expect(() => files.list()).toThrow();
    expect(crashed.list()).toEqual(['b']);
  });
});
