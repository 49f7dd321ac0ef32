/**
 * The agent's CRI log reader and logs handler on files written by the test: CRI records parsed
 * (partial `P` records joined, malformed lines skipped), the last N lines found across rotated
 * files, sinceTime at nanosecond precision, timestamps only at line starts, chunks bounded with a
 * cursor that survives a rotation (it names the inode), current and previous instances, and a
 * follow long poll that returns new lines as they are appended and ends when the instance exits.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../../bus/index.js';
import { containerLogDirectory } from '../../../nodeagent/log-paths.js';
import {
  handleLogs, instanceFiles, logAttempts, parseCriRecord, readLogChunk, tailCursor, timestampNanos, type LogsRequest,
} from '../../../nodeagent/rpc/index.js';
import { runtimeLabels, type ContainerStatus } from '../../../nodeagent/runtime/types.js';

let dir: string;
let containerDir: string;
const line = (ts: string, text: string, tag: 'F' | 'P' = 'F', stream = 'stdout'): string => `2026-12-03T05:00:${ts}Z ${stream} ${tag} ${text}\n`;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubus-logs-'));
  containerDir = containerLogDirectory(dir, 'default', 'web', 'u1', 'app');
  mkdirSync(containerDir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const readAll = async (attempt: number, options: { since?: string; timestamps?: boolean; tail?: number; maxBytes?: number } = {}): Promise<string> => {
  const files = await instanceFiles(containerDir, attempt);
  let cursor = options.tail !== undefined ? await tailCursor(files, attempt, options.tail) : { attempt, inode: files[0]?.inode ?? 0, offset: 0, midLine: false };
  let text = '';
  for (let i = 0; i < 1_000; i++) {
    const read = await readLogChunk(files, cursor, {
      sinceNanos: options.since === undefined ? null : timestampNanos(options.since), timestamps: options.timestamps ?? false, maxBytes: options.maxBytes ?? 1 << 20,
    });
    text += read.chunk.toString();
    cursor = read.cursor;
    if (read.caughtUp) return text;
  }
  throw new Error('never caught up');
};

describe('CRI records', () => {
  it('parses full and partial records and rejects what is not one', () => {
    expect(parseCriRecord(Buffer.from('2026-12-03T05:00:00.5Z stderr F hello world'))).toMatchObject({ stream: 'stderr', partial: false, timestamp: '2026-12-03T05:00:00.5Z' });
    expect(parseCriRecord(Buffer.from('2026-12-03T05:00:00Z stdout P part'))?.content.toString()).toBe('part');
    expect(parseCriRecord(Buffer.from('2026-12-03T05:00:00Z stdout F'))?.content.toString()).toBe('');
    expect(parseCriRecord(Buffer.from('garbage'))).toBeNull();
    expect(parseCriRecord(Buffer.from('2026-12-03T05:00:00Z stdin F x'))).toBeNull();
  });

  it('compares timestamps at nanosecond precision', () => {
    expect((timestampNanos('2026-12-03T05:00:00.000000002Z') as bigint) > (timestampNanos('2026-12-03T05:00:00.000000001Z') as bigint)).toBe(true);
    expect(timestampNanos('2026-12-03T06:00:00+01:00')).toBe(timestampNanos('2026-12-03T05:00:00Z'));
    expect(timestampNanos('yesterday')).toBeNull();
  });
});

describe('log reader', () => {
  it('joins partial records, skips malformed lines, and stamps only line starts', async () => {
    writeFileSync(join(containerDir, '0.log'), line('01', 'hel', 'P') + line('02', 'lo') + 'not cri\n' + line('03', 'bye', 'F', 'stderr'));
    expect(await readAll(0)).toBe('hello\nbye\n');
    expect(await readAll(0, { timestamps: true })).toBe('2026-12-03T05:00:01Z hello\n2026-12-03T05:00:03Z bye\n');
  });

  it('finds the last N lines across rotated files, oldest file first', async () => {
    writeFileSync(join(containerDir, '0.log.2'), line('01', 'a') + line('02', 'b'));
    writeFileSync(join(containerDir, '0.log.1'), line('03', 'c'));
    writeFileSync(join(containerDir, '0.log'), line('04', 'd') + line('05', 'e'));
    expect(await readAll(0)).toBe('a\nb\nc\nd\ne\n');
    expect(await readAll(0, { tail: 2 })).toBe('d\ne\n');
    expect(await readAll(0, { tail: 3 })).toBe('c\nd\ne\n');
    expect(await readAll(0, { tail: 4 })).toBe('b\nc\nd\ne\n');
    expect(await readAll(0, { tail: 10 })).toBe('a\nb\nc\nd\ne\n');
    expect(await readAll(0, { tail: 0 })).toBe('');
  });

  it('does not count an unterminated last record (being written) as a line', async () => {
    writeFileSync(join(containerDir, '0.log'), line('01', 'a') + line('02', 'b') + '2026-12-03T05:00:03Z stdout F hal');
    expect(await readAll(0, { tail: 1 })).toBe('b\n');
    expect(await readAll(0)).toBe('a\nb\n');
  });

  it('skips lines before sinceTime', async () => {
    writeFileSync(join(containerDir, '0.log'), line('01', 'a') + line('02.5', 'b') + line('03', 'c'));
    expect(await readAll(0, { since: '2026-12-03T05:00:02Z' })).toBe('b\nc\n');
    expect(await readAll(0, { since: '2026-12-03T05:00:02.6Z' })).toBe('c\n');
  });

  it('bounds a chunk and continues from its cursor, also after the file was rotated', async () => {
    writeFileSync(join(containerDir, '0.log'), line('01', 'one') + line('02', 'two') + line('03', 'three'));
    let files = await instanceFiles(containerDir, 0);
    const first = await readLogChunk(files, { attempt: 0, inode: files[0]?.inode ?? 0, offset: 0, midLine: false }, { sinceNanos: null, timestamps: false, maxBytes: 3 });
    expect(first.chunk.toString()).toBe('one\n');
    expect(first.caughtUp).toBe(false);
    // The writer rotates: 0.log becomes 0.log.1 and a new 0.log starts.
    renameSync(join(containerDir, '0.log'), join(containerDir, '0.log.1'));
    writeFileSync(join(containerDir, '0.log'), line('04', 'four'));
    files = await instanceFiles(containerDir, 0);
    const rest = await readLogChunk(files, first.cursor, { sinceNanos: null, timestamps: false, maxBytes: 1 << 20 });
    expect(rest.chunk.toString()).toBe('two\nthree\nfour\n');
    expect(rest.caughtUp).toBe(true);
  });

  it('lists attempts from current and rotated files', async () => {
    writeFileSync(join(containerDir, '0.log.1'), line('01', 'a'));
    writeFileSync(join(containerDir, '2.log'), line('01', 'a'));
    writeFileSync(join(containerDir, '1.log'), line('01', 'a'));
    expect(await logAttempts(containerDir)).toEqual([0, 1, 2]);
  });
});

describe('logs handler', () => {
  const clock = new SystemClock();
  const running = (attempt: number): ContainerStatus => ({
    id: `c${attempt}`, sandboxId: 's', name: 'app', attempt, state: 'running', createdAtMs: 0, startedAtMs: 0, finishedAtMs: null, exitCode: null,
    reason: null, message: null, logPath: '', image: 'x', labels: { [runtimeLabels.podUid]: 'u1', [runtimeLabels.containerName]: 'app', [runtimeLabels.attempt]: String(attempt) },
  });
  const request = (overrides: Partial<LogsRequest> = {}): LogsRequest => ({
    op: 'logs', namespace: 'default', name: 'web', uid: 'u1', container: 'app', previous: false, sinceTime: null, tailLines: null,
    timestamps: false, cursor: null, maxBytes: 1 << 20, waitMs: 0, ...overrides,
  });

  it('serves the current and the previous instance, and says when there is no previous one', async () => {
    writeFileSync(join(containerDir, '0.log'), line('01', 'first run'));
    const deps = { dir, nodeName: 'n1', clock, runtime: { listContainers: async () => [running(0)] } };
    await expect(handleLogs(request({ previous: true }), deps)).rejects.toThrow('previous terminated container "app" in pod "web" not found');
    writeFileSync(join(containerDir, '1.log'), line('02', 'second run'));
    const current = await handleLogs(request(), { ...deps, runtime: { listContainers: async () => [running(1)] } });
    expect(Buffer.from(current.chunk).toString()).toBe('second run\n');
    expect(current.eof).toBe(false);
    const previous = await handleLogs(request({ previous: true }), deps);
    expect(Buffer.from(previous.chunk).toString()).toBe('first run\n');
    expect(previous.eof).toBe(true);
  });

  it('names a pod it has no logs for', async () => {
    const deps = { dir, nodeName: 'n1', clock, runtime: { listContainers: async () => [] } };
    await expect(handleLogs(request({ uid: 'other' }), deps)).rejects.toMatchObject({ code: 'podNotFound' });
  });

  it('long-polls while caught up with a running instance and returns what is appended; eof once it exited', async () => {
    const path = join(containerDir, '0.log');
    writeFileSync(path, line('01', 'a'));
    let state: ContainerStatus['state'] = 'running';
    const deps = { dir, nodeName: 'n1', clock, runtime: { listContainers: async () => [{ ...running(0), state }] } };
    const first = await handleLogs(request(), deps);
    expect(Buffer.from(first.chunk).toString()).toBe('a\n');
    const polled = handleLogs(request({ cursor: first.cursor, waitMs: 5_000 }), deps);
    setTimeout(() => appendFileSync(path, line('02', 'b')), 300);
    const second = await polled;
    expect(Buffer.from(second.chunk).toString()).toBe('b\n');
    expect(second.eof).toBe(false);
    state = 'exited';
    const last = await handleLogs(request({ cursor: second.cursor, waitMs: 5_000 }), deps);
    expect(last.chunk.length).toBe(0);
    expect(last.eof).toBe(true);
  });
});

describe('tail of partial lines', () => {
  it('counts a line split into partial records once, across files too', async () => {
    writeFileSync(join(containerDir, '0.log.1'), line('01', 'a') + line('02', 'lo', 'P'));
    writeFileSync(join(containerDir, '0.log'), line('02', 'ng', 'P') + line('02', ' line') + line('03', 'z') + line('04', 'half', 'P'));
    // The unfinished line ('half', its end not written yet) follows the last N lines; it does not count as one.
    expect(await readAll(0, { tail: 1 })).toBe('z\nhalf');
    expect(await readAll(0, { tail: 2 })).toBe('long line\nz\nhalf');
    expect(await readAll(0, { tail: 3 })).toBe('a\nlong line\nz\nhalf');
    expect(await readAll(0, { tail: 0 })).toBe('half');
  });
});
