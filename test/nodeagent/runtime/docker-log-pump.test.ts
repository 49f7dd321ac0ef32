/**
 * A container's log pump over a fake engine: multiplexed frames become CRI lines with the
 * engine's timestamps; when the engine's stream ends while the container still runs (dockerd
 * restarted) the pump follows again from its file's resume point (`since` = that second) and the
 * replayed lines are not written twice; once the stream ends with the container stopped, the
 * pump is finished.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { parseCriLogLine } from '../../../nodeagent/runtime/cri-log-writer.js';
import { LogPump } from '../../../nodeagent/runtime/docker/log-pump.js';
import { waitUntil } from '../../support/wait.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
const dir = mkdtempSync(join(tmpdir(), 'kubus-test-h2-log-pump-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function frame(kind: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = kind;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

const stamp = (ms: number) => new Date(Date.parse('2026-12-03T10:00:00Z') + ms).toISOString().replace('Z', '000000Z');

const until = (what: string, holds: () => boolean): Promise<boolean> => waitUntil(what, holds, { timeoutMs: 5_000, intervalMs: 10 });

describe('docker log pump', () => {
  it('writes CRI lines, follows again after the engine restarts without duplicates, finishes when the container stopped', async () => {
    const streams: PassThrough[] = [];
    const sinces: unknown[] = [];
    let running = true;
    const fake = {
      getContainer: () => ({
        logs: async (options: { since: unknown }) => {
          sinces.push(options.since);
          const stream = new PassThrough();
          streams.push(stream);
          return stream;
        },
        inspect: async () => ({ State: { Running: running } }),
      }),
    } as unknown as Dockerode;
    const logPath = join(dir, 'app', '0.log');
    const pump = new LogPump(fake, { containerId: 'c1', logPath, tty: false, clock: new SystemClock(), logger: silent });
    const lines = () => readFileSync(logPath, 'utf8').split('\n').filter((line) => line !== '').map((line) => {
      const parsed = parseCriLogLine(line);
      return `${parsed?.stream} ${parsed?.time} ${parsed?.content}`;
    });
    pump.start();
    await until('the first follow', () => streams.length === 1);
    expect(sinces[0]).toBe(0);
    streams[0]?.write(Buffer.concat([frame(1, `${stamp(1)} one\n${stamp(2)} tw`), frame(2, `${stamp(2)} oops\n`), frame(1, 'o\n')]));
    await until('three lines', () => { try { return lines().length === 3; } catch { return false; } });
    expect(lines()).toEqual([`stdout ${stamp(1)} one`, `stderr ${stamp(2)} oops`, `stdout ${stamp(2)} two`]);
    // dockerd restarts: the stream ends, the container still runs.
    streams[0]?.end();
    await until('the second follow', () => streams.length === 2);
    expect(sinces[1]).toBe(Math.floor(Date.parse('2026-12-03T10:00:00Z') / 1000));
    // The engine replays from that second: what was written, then what is new.
    streams[1]?.write(Buffer.concat([frame(1, `${stamp(1)} one\n${stamp(2)} two\n`), frame(2, `${stamp(2)} oops\n`), frame(1, `${stamp(3)} three\n`)]));
    running = false;
    streams[1]?.end();
    await pump.finished;
    expect(lines()).toEqual([`stdout ${stamp(1)} one`, `stderr ${stamp(2)} oops`, `stdout ${stamp(2)} two`, `stdout ${stamp(3)} three`]);
    expect(streams.length).toBe(2);
    pump.close();
  });
});
