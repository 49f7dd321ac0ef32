/**
 * SPDY/3.1 framing as kubectl's port-forward tunnels it inside WebSocket messages
 * (K8S-STREAMING.md §4, moby/spdystream spdy/{read,write}.go): control frames
 * `80 03 TT TT | FF LL LL LL | payload`, data frames `0S SS SS SS | FF LL LL LL | data`.
 * WebSocket message boundaries mean nothing (kubectl splits frames into 2- and 4-byte messages),
 * so `SpdyFrameReader` reassembles frames from any chunking. Pure: no I/O, unit-tested.
 */
import { KubusError, type ErrorFields } from '../../../../bus/errors.js';

export const spdyControlTypes = {
  synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goAway: 7, headers: 8, windowUpdate: 9,
} as const;

export const spdyFlags = { fin: 0x01 } as const;

/** RST_STREAM status codes (SPDY/3 §2.6.3) we send. */
export const spdyRstStatus = { protocolError: 1, invalidStream: 2, refusedStream: 3, cancel: 5, internalError: 6 } as const;

export type SpdyFrame =
  | { readonly type: 'data'; readonly streamId: number; readonly fin: boolean; readonly data: Buffer }
  | { readonly type: 'synStream'; readonly streamId: number; readonly fin: boolean; readonly headerBlock: Buffer }
  | { readonly type: 'rstStream'; readonly streamId: number; readonly status: number }
  | { readonly type: 'ping'; readonly id: number; readonly raw: Buffer }
  | { readonly type: 'goAway'; readonly lastGoodStreamId: number; readonly status: number }
  /** SETTINGS, WINDOW_UPDATE, HEADERS, SYN_REPLY from the client: nothing to do (there is no flow control). */
  | { readonly type: 'ignored'; readonly controlType: number };

export class SpdyProtocolError extends KubusError {
  override readonly name = 'SpdyProtocolError';
  readonly code = 'spdyProtocol';
  constructor(message: string, readonly streamId: number | null = null) {
    super(message);
  }
  override fields(): ErrorFields {
    return { streamId: this.streamId };
  }
}

const frameHeaderBytes = 8;

/** Reassembles frames from a byte stream of any chunking; holds at most one frame's bytes. */
export class SpdyFrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(private readonly payloadMax: number) {}

  /** Every frame completed by `chunk`; throws SpdyProtocolError on a malformed or oversized frame. */
  push(chunk: Uint8Array): SpdyFrame[] {
    this.buffered = this.buffered.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffered, chunk]);
    const frames: SpdyFrame[] = [];
    while (this.buffered.length >= frameHeaderBytes) {
      const length = this.buffered.readUIntBE(5, 3);
      if (length > this.payloadMax) throw new SpdyProtocolError(`SPDY frame of ${length} bytes exceeds ${this.payloadMax}`);
      if (this.buffered.length < frameHeaderBytes + length) break;
      const frame = this.buffered.subarray(0, frameHeaderBytes + length);
      this.buffered = this.buffered.subarray(frameHeaderBytes + length);
      frames.push(parseFrame(frame));
    }
    return frames;
  }

  pendingBytes(): number {
    return this.buffered.length;
  }
}

function parseFrame(frame: Buffer): SpdyFrame {
  const flags = frame[4] as number;
  const payload = frame.subarray(frameHeaderBytes);
  if (((frame[0] as number) & 0x80) === 0) {
    return { type: 'data', streamId: frame.readUInt32BE(0) & 0x7fffffff, fin: (flags & spdyFlags.fin) !== 0, data: payload };
  }
  const version = frame.readUInt16BE(0) & 0x7fff;
  if (version !== 3) throw new SpdyProtocolError(`SPDY version ${version} is not served (3 only)`);
  const controlType = frame.readUInt16BE(2);
  const need = (bytes: number, what: string): void => {
    if (payload.length < bytes) throw new SpdyProtocolError(`${what} frame of ${payload.length} bytes is too short`);
  };
  switch (controlType) {
    case spdyControlTypes.synStream:
      need(10, 'SYN_STREAM');
      return { type: 'synStream', streamId: payload.readUInt32BE(0) & 0x7fffffff, fin: (flags & spdyFlags.fin) !== 0, headerBlock: payload.subarray(10) };
    case spdyControlTypes.rstStream:
      need(8, 'RST_STREAM');
      return { type: 'rstStream', streamId: payload.readUInt32BE(0) & 0x7fffffff, status: payload.readUInt32BE(4) };
    case spdyControlTypes.ping:
      need(4, 'PING');
      return { type: 'ping', id: payload.readUInt32BE(0), raw: Buffer.from(frame) };
    case spdyControlTypes.goAway:
      need(8, 'GOAWAY');
      return { type: 'goAway', lastGoodStreamId: payload.readUInt32BE(0) & 0x7fffffff, status: payload.readUInt32BE(4) };
    default:
      return { type: 'ignored', controlType };
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const out = Buffer.alloc(frameHeaderBytes + payload.length);
  out.writeUInt16BE(0x8003, 0);
  out.writeUInt16BE(type, 2);
  out[4] = flags;
  out.writeUIntBE(payload.length, 5, 3);
  payload.copy(out, frameHeaderBytes);
  return out;
}

export function encodeDataFrame(streamId: number, data: Uint8Array, fin: boolean): Buffer {
  if (data.length >= 1 << 24) throw new RangeError(`SPDY data frame of ${data.length} bytes exceeds the 24-bit length`);
  const out = Buffer.alloc(frameHeaderBytes + data.length);
  out.writeUInt32BE(streamId & 0x7fffffff, 0);
  out[4] = fin ? spdyFlags.fin : 0;
  out.writeUIntBE(data.length, 5, 3);
  out.set(data, frameHeaderBytes);
  return out;
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(streamId & 0x7fffffff, 0);
  payload.writeUInt32BE(status, 4);
  return controlFrame(spdyControlTypes.rstStream, 0, payload);
}

export function encodeGoAway(lastGoodStreamId: number, status: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(lastGoodStreamId & 0x7fffffff, 0);
  payload.writeUInt32BE(status, 4);
  return controlFrame(spdyControlTypes.goAway, 0, payload);
}

/**
 * The zero-count header block of a SYN_REPLY, without a deflater (K8S-STREAMING.md §4, verified
 * with kubectl): the first reply of a connection opens the zlib stream (`78 bb` + the SPDY/3
 * dictionary's adler32 `e3c6a7c2`); every reply holds one stored deflate block with the four
 * bytes `00 00 00 00` (count 0), then the sync marker `00 00 00 ff ff`. The marker is required:
 * without it Go's flate reader reads past the frame and the next reply fails.
 */
const zlibHeaderWithDictionary = Buffer.from([0x78, 0xbb, 0xe3, 0xc6, 0xa7, 0xc2]);
const storedEmptyHeaderBlock = Buffer.from([0x00, 0x04, 0x00, 0xfb, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff]);

export function encodeSynReply(streamId: number, firstOnConnection: boolean): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(streamId & 0x7fffffff, 0);
  const block = firstOnConnection ? Buffer.concat([zlibHeaderWithDictionary, storedEmptyHeaderBlock]) : storedEmptyHeaderBlock;
  return controlFrame(spdyControlTypes.synReply, 0, Buffer.concat([id, block]));
}
