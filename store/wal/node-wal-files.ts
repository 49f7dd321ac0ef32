/**
 * `WalFiles` on the real disk, with synchronous node:fs calls: the Ready loop waits for its sync
 * anyway, and a synchronous call costs no promise or thread-pool hop (~50 µs each here).
 *
 * Decision: one descriptor per file, opened on first use and kept, so an append is a `pwrite` and
 * an `fdatasync` without an open/close around them. Files are created 0600 in a 0700 directory
 * (the log holds every value written to the store). libuv opens every descriptor with O_CLOEXEC,
 * so child processes the member spawns never inherit them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WalFiles } from './wal-files.js';

/** Zero bytes written per call when pre-allocating: bounds the buffer, not the file. */
const zeroChunkBytes = 1024 * 1024;

export class NodeWalFiles implements WalFiles {
  private readonly descriptors = new Map<string, number>();
  private zeros: Uint8Array | null = null;

  constructor(private readonly directory: string) {
    fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
  }

  list(): string[] {
    return fs.readdirSync(this.directory);
  }

  size(name: string): number {
    return fs.fstatSync(this.descriptor(name)).size;
  }

  read(name: string, offset = 0, length?: number): Uint8Array {
    const fd = this.descriptor(name);
    const available = Math.max(0, fs.fstatSync(fd).size - offset);
    const wanted = Math.min(available, length ?? available);
    const buffer = Buffer.allocUnsafe(wanted);
    let done = 0;
    while (done < wanted) {
      const got = fs.readSync(fd, buffer, done, wanted - done, offset + done);
      if (got === 0) break;
      done += got;
    }
    return new Uint8Array(buffer.buffer, buffer.byteOffset, done);
  }

  create(name: string, bytes: number): void {
    const fd = fs.openSync(this.pathOf(name), fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    this.descriptors.set(name, fd);
    this.zeros ??= new Uint8Array(zeroChunkBytes);
    for (let offset = 0; offset < bytes; offset += zeroChunkBytes) {
      this.writeAll(fd, this.zeros.subarray(0, Math.min(zeroChunkBytes, bytes - offset)), offset);
    }
  }

  write(name: string, offset: number, data: Uint8Array): void {
    this.writeAll(this.descriptor(name), data, offset);
  }

  sync(name: string): void {
    fs.fdatasyncSync(this.descriptor(name));
  }

  truncate(name: string, bytes: number): void {
    fs.ftruncateSync(this.descriptor(name), bytes);
  }

  rename(from: string, to: string): void {
    this.closeOne(to);
    fs.renameSync(this.pathOf(from), this.pathOf(to));
    const fd = this.descriptors.get(from);
    if (fd !== undefined) {
      this.descriptors.delete(from);
      this.descriptors.set(to, fd);
    }
  }

  remove(name: string): void {
    this.closeOne(name);
    fs.unlinkSync(this.pathOf(name));
  }

  syncDirectory(): void {
    const fd = fs.openSync(this.directory, fs.constants.O_RDONLY);
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  close(): void {
    for (const name of [...this.descriptors.keys()]) this.closeOne(name);
  }

  private descriptor(name: string): number {
    let fd = this.descriptors.get(name);
    if (fd === undefined) {
      fd = fs.openSync(this.pathOf(name), fs.constants.O_RDWR);
      this.descriptors.set(name, fd);
    }
    return fd;
  }

  private closeOne(name: string): void {
    const fd = this.descriptors.get(name);
    if (fd === undefined) return;
    this.descriptors.delete(name);
    fs.closeSync(fd);
  }

  private writeAll(fd: number, data: Uint8Array, offset: number): void {
    let done = 0;
    while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done, offset + done);
  }

  private pathOf(name: string): string {
    if (name.includes('/') || name.includes(path.sep) || name === '.' || name === '..') throw new RangeError(`wal file name ${JSON.stringify(name)} is not a plain file name`);
    return path.join(this.directory, name);
  }
}
