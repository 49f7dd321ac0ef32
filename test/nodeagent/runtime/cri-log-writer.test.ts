/**
 * The CRI log format and its rotation: raw output is cut into `F` lines at newlines and `P`
 * pieces at the line bound, an unfinished line waits for more unless the writer is gone, each
 * record is `<RFC3339Nano> <stream> <tag> <text>`, and a file that would pass its size bound is
 * rotated to `.1`, `.2`, … keeping at most `filesMax` files.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CriLogWriter, formatCriTimestamp, parseCriLogLine, splitOutput } from '../../../nodeagent/runtime/cri-log-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'kubus-crilog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const time = new Date(Date.UTC(2026, 11, 3, 4, 5, 6, 789));

const texts = (buffer: string, lineBytesMax: number, atEnd: boolean) => {
  const { lines, consumedBytes } = splitOutput(Buffer.from(buffer), { lineBytesMax, atEnd });
  return { lines: lines.map((line) => `${line.tag}:${line.content.toString()}`), consumedBytes };
};

describe('splitOutput', () => {
  it('ends F lines at newlines and leaves an unfinished line for later', () => {
    expect(texts('one\ntwo\nthr', 100, false)).toEqual({ lines: ['F:one', 'F:two'], consumedBytes: 8 });
    expect(texts('one\n\nthr', 100, true)).toEqual({ lines: ['F:one', 'F:', 'F:thr'], consumedBytes: 8 });
  });

  it('cuts long lines into P pieces ending with an F piece', () => {
    expect(texts('abcdefgh\nxy', 3, false)).toEqual({ lines: ['P:abc', 'P:def', 'F:gh'], consumedBytes: 9 });
    expect(texts('abcdef\n', 3, false)).toEqual({ lines: ['P:abc', 'F:def'], consumedBytes: 7 });
    expect(texts('abcdefg', 3, false)).toEqual({ lines: ['P:abc', 'P:def'], consumedBytes: 6 });
  });
});

describe('CriLogWriter', () => {
  it('writes CRI records that parse back', () => {
    const path = join(dir, 'format', '0.log');
    const writer = new CriLogWriter({ path });
    writer.write('stdout', { content: Buffer.from('hello world'), tag: 'F' }, time);
    writer.write('stderr', { content: Buffer.from('par'), tag: 'P' }, time);
    writer.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines[0]).toBe('2026-12-03T04:05:06.789000000Z stdout F hello world');
    expect(parseCriLogLine(lines[1] ?? '')).toEqual({ time: formatCriTimestamp(time), stream: 'stderr', tag: 'P', content: 'par' });
    expect(parseCriLogLine('garbage')).toBeNull();
  });

  it('rotates at the size bound and keeps at most filesMax files', () => {
    const path = join(dir, 'rotate', '0.log');
    const writer = new CriLogWriter({ path, fileBytesMax: 110, filesMax: 3 });
    // Each record is 30 (timestamp) + 10 (" stdout F ") + 10 + 1 = 51 bytes: two fit in a file of 110.
    for (let index = 0; index < 9; index += 1) writer.write('stdout', { content: Buffer.from(`line-${String(index).padStart(5, '0')}`), tag: 'F' }, time);
    writer.close();
    expect(readdirSync(join(dir, 'rotate')).sort()).toEqual(['0.log', '0.log.1', '0.log.2']);
    const contents = (name: string) => readFileSync(join(dir, 'rotate', name), 'utf8').trim().split('\n').map((line) => parseCriLogLine(line)?.content);
    expect(contents('0.log')).toEqual(['line-00008']);
    expect(contents('0.log.1')).toEqual(['line-00006', 'line-00007']);
    expect(contents('0.log.2')).toEqual(['line-00004', 'line-00005']);
  });

  it('continues an existing file after a restart, counting its size', () => {
    const path = join(dir, 'resume', '0.log');
    const first = new CriLogWriter({ path, fileBytesMax: 110, filesMax: 2 });
    first.write('stdout', { content: Buffer.from('line-00001'), tag: 'F' }, time);
    first.close();
    const second = new CriLogWriter({ path, fileBytesMax: 110, filesMax: 2 });
    second.write('stdout', { content: Buffer.from('line-00002'), tag: 'F' }, time);
    second.write('stdout', { content: Buffer.from('line-00003'), tag: 'F' }, time);
    second.close();
    expect(readFileSync(`${path}.1`, 'utf8').split('\n').length).toBe(3);
    expect(readFileSync(path, 'utf8')).toContain('line-00003');
  });
});
