/**
 * Copies one container's raw output (`stdout`, `stderr` in its state directory) into its CRI log
 * at `ContainerConfig.logPath`, from the offsets recorded in `log-offsets.json`, so a restarted
 * agent continues where the last one stopped and output written while no agent ran is picked up
 * (stamped with the time it is read).
 *
 * Decision: a raw file fully copied and larger than `rawOutputTruncateBytesMin` is truncated
 * (the container appends with O_APPEND, so its next write lands at the new start). Output the
 * container writes between the last read and the truncation, a window of microseconds, is lost;
 * that is the price of bounded raw files without a copying process per container.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { CriLogWriter, splitOutput, type LogStream } from '../cri-log-writer.js';
import { containerRuntimeLimits } from '../limits.js';
import { readJson, writeJsonAtomic, type LogOffsets } from './layout.js';

export class OutputTailer {
  private offsets: LogOffsets;
  private readonly writer: CriLogWriter;
  private readonly offsetsFile: string;

  constructor(private readonly stateDir: string, logPath: string, private readonly wallClock: () => Date) {
    this.offsetsFile = join(stateDir, 'log-offsets.json');
    this.offsets = readJson<LogOffsets>(this.offsetsFile) ?? { stdout: 0, stderr: 0, done: false };
    this.writer = new CriLogWriter({ path: logPath });
  }

  get done(): boolean {
    return this.offsets.done;
  }

  /** Copies what is new; with `exited` (the container is gone) also the last unfinished line, then marks the log done. */
  poll(exited: boolean): void {
    if (this.offsets.done) return;
    const stdout = this.copy('stdout', this.offsets.stdout, exited);
    const stderr = this.copy('stderr', this.offsets.stderr, exited);
    const done = exited && stdout.atEnd && stderr.atEnd;
    if (stdout.offset !== this.offsets.stdout || stderr.offset !== this.offsets.stderr || done) {
      this.offsets = { stdout: stdout.offset, stderr: stderr.offset, done };
      writeJsonAtomic(this.offsetsFile, this.offsets);
    }
    if (done) this.writer.close();
  }

  close(): void {
    this.writer.close();
  }

  private copy(stream: LogStream, offset: number, exited: boolean): { readonly offset: number; readonly atEnd: boolean } {
    let descriptor: number;
    try {
      descriptor = openSync(join(this.stateDir, stream), 'r+');
    } catch {
      return { offset, atEnd: true };
    }
    try {
      const size = fstatSync(descriptor).size;
      // Truncated under us (cannot happen from our side twice) or offsets lost: restart from the file's start.
      const start = offset > size ? 0 : offset;
      const length = Math.min(size - start, containerRuntimeLimits.rawOutputReadBytesMax);
      const buffer = Buffer.alloc(length);
      const read = length === 0 ? 0 : readSync(descriptor, buffer, 0, length, start);
      const { lines, consumedBytes } = splitOutput(buffer.subarray(0, read), { lineBytesMax: containerRuntimeLimits.logLineBytesMax, atEnd: exited && start + read === size });
      const now = this.wallClock();
      for (const line of lines) this.writer.write(stream, line, now);
      const next = start + consumedBytes;
      if (!exited && next === size && size >= containerRuntimeLimits.rawOutputTruncateBytesMin && fstatSync(descriptor).size === size) {
        ftruncateSync(descriptor, 0);
        return { offset: 0, atEnd: true };
      }
      return { offset: next, atEnd: next === size };
    } finally {
      closeSync(descriptor);
    }
  }
}
