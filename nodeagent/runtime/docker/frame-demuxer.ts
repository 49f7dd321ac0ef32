/**
 * The engine's multiplexed stream (attach, exec and logs of a container without a terminal):
 * frames of an 8-byte header — stream (0 stdin, 1 stdout, 2 stderr), three zero bytes, the
 * payload's length big-endian — then the payload. Fed chunks as they arrive; hands out whole
 * payloads in order, so stdout and stderr keep their relative order (dockerode's demuxStream
 * splits them into two streams and loses it).
 *
 * Bound: a frame's payload is at most what the engine read in one go (32 KiB for logs, its copy
 * buffer for exec); a header announcing more than `frameBytesMax` is a broken stream.
 */
export type FrameStream = 'stdout' | 'stderr';

export class FrameDemuxerError extends Error {
  override readonly name = 'FrameDemuxerError';
}

export const frameBytesMax = 16 * 1024 * 1024;
const headerBytes = 8;

export class FrameDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onFrame: (stream: FrameStream, payload: Buffer) => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let offset = 0;
    while (this.pending.length - offset >= headerBytes) {
      const kind = this.pending[offset] ?? 0;
      const size = this.pending.readUInt32BE(offset + 4);
      if (size > frameBytesMax || kind > 2) throw new FrameDemuxerError(`broken engine stream: frame of kind ${kind}, ${size} bytes`);
      if (this.pending.length - offset - headerBytes < size) break;
      const payload = this.pending.subarray(offset + headerBytes, offset + headerBytes + size);
      offset += headerBytes + size;
      // stdin frames are never sent to a reader; treat a stray one as stdout.
      onFrame(kind === 2 ? 'stderr' : 'stdout', payload);
    }
    this.pending = offset === this.pending.length ? Buffer.alloc(0) : Buffer.from(this.pending.subarray(offset));
  }

  /** Bytes of an unfinished frame (the stream ended mid-frame when non-zero). */
  get pendingBytes(): number {
    return this.pending.length;
  }
}
