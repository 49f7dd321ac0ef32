/**
 * The SPDY/3.1 codec kubectl's port-forward tunnels through its WebSocket
 * (actors/apiserver/http/streaming/spdy-*.ts), against K8S-STREAMING.md §4: frames reassembled
 * whatever the message boundaries (kubectl splits them into 2- and 4-byte messages); header blocks
 * inflated with the SPDY/3 dictionary on ONE zlib stream per connection (a second block only
 * inflates with the first one's state), as a Go deflater writes them (sync-flushed per frame);
 * SYN_REPLY bytes exactly as verified with kubectl (the first with the zlib header, every one with
 * the sync marker); malformed and oversized input refused with a typed error.
 */
import { constants, createDeflate, type Deflate } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  HeaderBlockInflater, SpdyFrameReader, SpdyProtocolError, adler32, encodeDataFrame, encodeGoAway, encodeRstStream, encodeSynReply, parseHeaderBlock, spdyDictionary,
} from '../../actors/apiserver/http/streaming/index.js';

/** A header block as kubectl's spdystream writes it: count, then length-prefixed name and value. */
function headerBlock(pairs: Record<string, string>): Buffer {
  const parts: Buffer[] = [u32(Object.keys(pairs).length)];
  for (const [name, value] of Object.entries(pairs)) parts.push(u32(name.length), Buffer.from(name), u32(value.length), Buffer.from(value));
  return Buffer.concat(parts);
}
const u32 = (value: number): Buffer => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value, 0);
  return out;
};

function deflateBlock(deflater: Deflate, block: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    deflater.on('data', onData);
    deflater.write(block);
    deflater.flush(constants.Z_SYNC_FLUSH, () => {
      deflater.off('data', onData);
      resolve(Buffer.concat(chunks));
    });
  });
}

function synStream(streamId: number, compressedHeaders: Buffer): Buffer {
  const payload = Buffer.concat([u32(streamId), u32(0), Buffer.from([0, 0]), compressedHeaders]);
  return Buffer.concat([Buffer.from([0x80, 0x03, 0x00, 0x01, 0x00]), Buffer.from([payload.length >> 16, (payload.length >> 8) & 0xff, payload.length & 0xff]), payload]);
}

describe('the SPDY/3 dictionary', () => {
  it('is the 1423 bytes whose adler32 kubectl names in its zlib header (e3c6a7c2)', () => {
    expect(spdyDictionary.length).toBe(1423);
    expect(adler32(spdyDictionary).toString(16)).toBe('e3c6a7c2');
  });
});

describe('SpdyFrameReader', () => {
  it('reassembles frames split into 2- and 4-byte messages, data and control alike', () => {
    const bytes = Buffer.concat([encodeDataFrame(3, Buffer.from('GET / HTTP/1.1\r\n'), false), encodeDataFrame(3, Buffer.alloc(0), true), encodeRstStream(5, 5)]);
    const reader = new SpdyFrameReader(1 << 20);
    const frames = [];
    for (let offset = 0, size = 2; offset < bytes.length; offset += size, size = size === 2 ? 4 : 2) frames.push(...reader.push(bytes.subarray(offset, offset + size)));
    expect(frames).toEqual([
      { type: 'data', streamId: 3, fin: false, data: Buffer.from('GET / HTTP/1.1\r\n') },
      { type: 'data', streamId: 3, fin: true, data: Buffer.alloc(0) },
      { type: 'rstStream', streamId: 5, status: 5 },
    ]);
    expect(reader.pendingBytes()).toBe(0);
  });

  it('keeps a PING whole (it is echoed unchanged) and reads GOAWAY; SETTINGS and WINDOW_UPDATE are ignored', () => {
    const ping = Buffer.from([0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07]);
    const settings = Buffer.from([0x80, 0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00]);
    const frames = new SpdyFrameReader(1 << 20).push(Buffer.concat([ping, settings, encodeGoAway(9, 0)]));
    expect(frames).toEqual([
      { type: 'ping', id: 7, raw: ping },
      { type: 'ignored', controlType: 4 },
      { type: 'goAway', lastGoodStreamId: 9, status: 0 },
    ]);
  });

  it('refuses a frame over the bound, another SPDY version, a truncated control frame', () => {
    expect(() => new SpdyFrameReader(16).push(encodeDataFrame(1, Buffer.alloc(17), false))).toThrow(SpdyProtocolError);
    expect(() => new SpdyFrameReader(64).push(Buffer.from([0x80, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]))).toThrow(/version 2/);
    expect(() => new SpdyFrameReader(64).push(Buffer.from([0x80, 0x03, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0, 0]))).toThrow(/RST_STREAM frame of 2 bytes/);
  });
});

describe('SYN_REPLY', () => {
  it('is byte for byte what kubectl accepts: the first with the zlib header, every one with the sync marker', () => {
    expect(encodeSynReply(1, true).toString('hex')).toBe('800300020000001800000001' + '78bbe3c6a7c2' + '000400fbff00000000000000ffff');
    expect(encodeSynReply(3, false).toString('hex')).toBe('800300020000001200000003' + '000400fbff00000000000000ffff');
  });

  it('holds a zero-count header block a zlib reader with the dictionary inflates, reply after reply', async () => {
    const inflater = new HeaderBlockInflater(1024);
    const first = encodeSynReply(1, true).subarray(12);
    const second = encodeSynReply(3, false).subarray(12);
    expect(parseHeaderBlock(await inflater.inflateBlock(first), 8).size).toBe(0);
    expect(parseHeaderBlock(await inflater.inflateBlock(second), 8).size).toBe(0);
    inflater.close();
  });
});

describe('header blocks', () => {
  it('inflates successive SYN_STREAM blocks of one connection (one zlib stream, sync-flushed) into kubectl\'s headers', async () => {
    const deflater = createDeflate({ dictionary: spdyDictionary });
    const errorHeaders = await deflateBlock(deflater, headerBlock({ streamtype: 'error', port: '80', requestid: '0' }));
    const dataHeaders = await deflateBlock(deflater, headerBlock({ streamtype: 'data', port: '80', requestid: '0' }));
    const reader = new SpdyFrameReader(1 << 20);
    const frames = reader.push(Buffer.concat([synStream(1, errorHeaders), synStream(3, dataHeaders)]));
    expect(frames.map((f) => [f.type, 'streamId' in f ? f.streamId : null])).toEqual([['synStream', 1], ['synStream', 3]]);
    const inflater = new HeaderBlockInflater(1024);
    const blocks = [];
    for (const frame of frames) if (frame.type === 'synStream') blocks.push(parseHeaderBlock(await inflater.inflateBlock(frame.headerBlock), 8));
    expect(blocks.map((b) => Object.fromEntries([...b].map(([k, v]) => [k, v.join(',')])))).toEqual([
      { streamtype: 'error', port: '80', requestid: '0' },
      { streamtype: 'data', port: '80', requestid: '0' },
    ]);
    // The second block alone does not inflate: it refers to the first one's window.
    await expect(new HeaderBlockInflater(1024).inflateBlock(dataHeaders)).rejects.toThrow(SpdyProtocolError);
    deflater.close();
    inflater.close();
  });

  it('refuses a block over its bound and a block with more pairs than allowed', async () => {
    const deflater = createDeflate({ dictionary: spdyDictionary });
    const big = await deflateBlock(deflater, headerBlock({ streamtype: 'x'.repeat(2000) }));
    await expect(new HeaderBlockInflater(1024).inflateBlock(big)).rejects.toThrow(/exceeds 1024/);
    expect(() => parseHeaderBlock(headerBlock({ a: '1', b: '2', c: '3' }), 2)).toThrow(/3 pairs exceeds 2/);
    expect(() => parseHeaderBlock(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9, 0x61]), 8)).toThrow(/truncated/);
    deflater.close();
  });
});
