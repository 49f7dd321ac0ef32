/**
 * One conformance suite for both `WalFiles` implementations (the real disk and the simulation's):
 * the WAL relies on exactly these behaviours, so a difference between the two would make the
 * simulation test something the member does not run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryWalFiles, NodeWalFiles, type WalFiles } from '../../../store/wal/index.js';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) fs.rmSync(directory, { recursive: true, force: true });
});

const implementations: [string, () => WalFiles][] = [
  ['MemoryWalFiles', () => new MemoryWalFiles()],
  [
    'NodeWalFiles',
    () => {
      const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'kubus-wal-files-'));
      directories.push(directory);
      return new NodeWalFiles(path.join(directory, 'wal'));
    },
  ],
];

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);

describe.each(implementations)('%s', (_name, make) => {
  it('creates zero-filled files of the asked size, and lists them', () => {
    const files = make();
    files.create('a', 5000);
    files.create('b', 0);
    expect(files.list().sort()).toEqual(['a', 'b']);
    expect(files.size('a')).toBe(5000);
    expect(files.read('a')).toEqual(new Uint8Array(5000));
    expect(files.size('b')).toBe(0);
    expect(() => files.create('a', 1)).toThrow();
    files.close();
  });

  it('writes at offsets (extending past the end), reads ranges, clamps at the end', () => {
    const files = make();
    files.create('a', 8);
    files.write('a', 2, bytes(1, 2, 3));
    files.write('a', 10, bytes(9));
    expect(files.size('a')).toBe(11);
    expect(files.read('a')).toEqual(bytes(0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 9));
    expect(files.read('a', 3, 2)).toEqual(bytes(2, 3));
    expect(files.read('a', 9, 100)).toEqual(bytes(0, 9));
    expect(files.read('a', 20, 4)).toEqual(new Uint8Array(0));
    files.sync('a');
    files.close();
  });

  it('truncates, renames (replacing the target), removes, and syncs the directory', () => {
    const files = make();
    files.create('a', 0);
    files.write('a', 0, bytes(1, 2, 3, 4));
    files.truncate('a', 2);
    expect(files.read('a')).toEqual(bytes(1, 2));
    files.write('a', 3, bytes(7));
    expect(files.read('a')).toEqual(bytes(1, 2, 0, 7));
    files.create('b', 1);
    files.rename('a', 'b');
    expect(files.list()).toEqual(['b']);
    expect(files.read('b')).toEqual(bytes(1, 2, 0, 7));
    files.remove('b');
    expect(files.list()).toEqual([]);
    files.syncDirectory();
    expect(() => files.read('b')).toThrow();
    files.close();
  });
});

describe('NodeWalFiles permissions', () => {
  it('creates its directory 0700 and its files 0600 (the log holds every value written)', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'kubus-wal-files-'));
    directories.push(directory);
    const files = new NodeWalFiles(path.join(directory, 'wal'));
    files.create('a', 10);
    expect(fs.statSync(path.join(directory, 'wal')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(directory, 'wal', 'a')).mode & 0o777).toBe(0o600);
    files.close();
  });
});
