/**
 * Where a container's CRI log left off, so a restarted agent resumes following the engine's log
 * without duplicating or dropping lines.
 *
 * Decision: lines are written with the engine's own timestamp (when the container wrote them),
 * kept to the millisecond by the CRI writer. The resume point is the last line's millisecond and
 * how many whole lines (each ends in one `F` record) the file holds at that millisecond; the new
 * follow starts at the second before it and skips lines older than that millisecond, then that
 * many lines at it. Lines the engine stamped within one millisecond keep their order, so this is
 * exact unless the file lost its tail.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { parseCriRecord } from '../cri-log-writer.js';

export interface ResumePoint {
  /** The last written line's time; 0 when nothing was written (follow from the start). */
  readonly lastMs: number;
  /** Whole lines written at `lastMs`. */
  readonly linesAtLastMs: number;
}

export const resumeFromStart: ResumePoint = { lastMs: 0, linesAtLastMs: 0 };

/** The tail read to find the resume point: several whole lines even at the longest line. */
const tailBytesMax = 256 * 1024;

export function readResumePoint(logPath: string): ResumePoint {
  for (const path of [logPath, `${logPath}.1`]) {
    if (!existsSync(path)) continue;
    const point = resumePointOf(readTail(path));
    if (point.lastMs > 0) return point;
  }
  return resumeFromStart;
}

/** The resume point of a CRI log's tail (the first, possibly cut, line is ignored when the tail is not the whole file). */
export function resumePointOf(tail: Buffer): ResumePoint {
  const lines = tail.toString('latin1').split('\n').filter((line) => line !== '');
  let lastMs = 0;
  let linesAtLastMs = 0;
  for (let index = lines.length - 1; index >= 0; index -= 1) {
    const record = parseCriRecord(Buffer.from(lines[index] ?? '', 'latin1'));
    if (record === null) continue;
    const ms = Date.parse(record.timestamp);
    if (Number.isNaN(ms)) continue;
    if (lastMs === 0) lastMs = ms;
    if (ms !== lastMs) break;
    if (!record.partial) linesAtLastMs += 1;
  }
  return { lastMs, linesAtLastMs };
}

/** Decides, line by line, whether an engine line was already written before the resume. */
export class ResumeFilter {
  private skipAtLastMs: number;

  constructor(private readonly point: ResumePoint) {
    this.skipAtLastMs = point.linesAtLastMs;
  }

  /** The engine's `since` (seconds) to follow from. */
  get sinceSeconds(): number {
    return Math.floor(this.point.lastMs / 1000);
  }

  isNew(ms: number): boolean {
    if (ms > this.point.lastMs) return true;
    if (ms < this.point.lastMs) return false;
    if (this.skipAtLastMs > 0) {
      this.skipAtLastMs -= 1;
      return false;
    }
    return true;
  }
}

function readTail(path: string): Buffer {
  const descriptor = openSync(path, 'r');
  try {
    const size = fstatSync(descriptor).size;
    const length = Math.min(size, tailBytesMax);
    const buffer = Buffer.alloc(length);
    readSync(descriptor, buffer, 0, length, size - length);
    // A tail cut mid-line: drop the cut line.
    if (length < size) {
      const newline = buffer.indexOf(0x0a);
      return newline < 0 ? Buffer.alloc(0) : buffer.subarray(newline + 1);
    }
    return buffer;
  } finally {
    closeSync(descriptor);
  }
}
