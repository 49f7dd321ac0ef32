/**
 * The wire form of stream frames: one NATS message each, on the receiver's per-stream subject
 * (the stream id is in the subject, not the frame). Binary, big-endian, so DATA costs 5 bytes:
 *
 *   DATA   [1][seq u32][payload]      one chunk (bytes mode) or one datagram (datagram mode)
 *   WINDOW [2][limit u48]             "you may send until your byte count reaches limit"; also the keepalive
 *   FIN    [3][seq u32]               no DATA after seq-1; in the DATA sequence so a lost tail is a gap
 *   RST    [4][reason utf8]           the stream is over, with the sender's reason
 *
 * Decision: WINDOW carries an absolute limit, not an increment, so a lost or repeated WINDOW
 * changes nothing (the next one, at the latest the keepalive, carries the same or a higher limit);
 * DATA and FIN are numbered so a lost one is seen as a gap and resets the stream.
 */
export type Frame =
  | { readonly type: 'data'; readonly seq: number; readonly payload: Uint8Array }
  | { readonly type: 'window'; readonly limit: number }
  | { readonly type: 'fin'; readonly seq: number }
  | { readonly type: 'rst'; readonly reason: string };

const typeCodes = { data: 1, window: 2, fin: 3, rst: 4 } as const;
/** Header bytes before a DATA payload. */
export const dataHeaderBytes = 5;
/** Largest limit a WINDOW can carry (48 bits: 256 TiB in one stream). */
export const windowLimitMax = 2 ** 48 - 1;

export function encodeFrame(frame: Frame): Uint8Array {
  switch (frame.type) {
    case 'data': {
      const bytes = Buffer.allocUnsafe(dataHeaderBytes + frame.payload.byteLength);
      bytes[0] = typeCodes.data;
      bytes.writeUInt32BE(frame.seq >>> 0, 1);
      bytes.set(frame.payload, dataHeaderBytes);
      return bytes;
    }
    case 'window': {
      const bytes = Buffer.allocUnsafe(7);
      bytes[0] = typeCodes.window;
      bytes.writeUIntBE(Math.min(frame.limit, windowLimitMax), 1, 6);
      return bytes;
    }
    case 'fin': {
      const bytes = Buffer.allocUnsafe(5);
      bytes[0] = typeCodes.fin;
      bytes.writeUInt32BE(frame.seq >>> 0, 1);
      return bytes;
    }
    case 'rst':
      return Buffer.concat([Buffer.from([typeCodes.rst]), Buffer.from(frame.reason, 'utf8')]);
  }
}

/** The frame in `bytes`, or null when it is not one (a peer speaking something else: the caller resets). */
export function decodeFrame(bytes: Uint8Array): Frame | null {
  if (bytes.byteLength === 0) return null;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (view[0]) {
    case typeCodes.data:
      return view.byteLength < dataHeaderBytes ? null : { type: 'data', seq: view.readUInt32BE(1), payload: view.subarray(dataHeaderBytes) };
    case typeCodes.window:
      return view.byteLength !== 7 ? null : { type: 'window', limit: view.readUIntBE(1, 6) };
    case typeCodes.fin:
      return view.byteLength !== 5 ? null : { type: 'fin', seq: view.readUInt32BE(1) };
    case typeCodes.rst:
      return { type: 'rst', reason: view.subarray(1).toString('utf8') };
    default:
      return null;
  }
}
