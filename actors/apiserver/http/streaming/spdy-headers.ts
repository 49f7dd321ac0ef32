/**
 * SPDY/3 header blocks (SYN_STREAM): zlib with the SPDY/3 dictionary, ONE zlib stream per
 * direction for the whole connection, sync-flushed after each frame (K8S-STREAMING.md §4). The
 * inflated block is u32 count, then for each pair u32 length + lowercase name, u32 length + value.
 *
 * Decision: the dictionary is built from its definition (SPDY/3 draft §2.6.10.1: length-prefixed
 * header words, then a run of common values) rather than pasted as 1,423 bytes; its adler32
 * (e3c6a7c2, the id kubectl's zlib header names) is checked when the module loads.
 */
import { constants, createInflate, type Inflate } from 'node:zlib';
import { assert } from '../../../../bus/assert.js';
import { SpdyProtocolError } from './spdy-frames.js';

const dictionaryWords = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language', 'accept-ranges', 'age', 'allow',
  'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding', 'content-language', 'content-length', 'content-location',
  'content-md5', 'content-range', 'content-type', 'date', 'etag', 'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match',
  'if-range', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range',
  'referer', 'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning', 'www-authenticate',
  'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin',
];
const dictionaryTail = '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505'
  + '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden404 Not Found'
  + '500 Internal Server Error501 Not Implemented503 Service Unavailable'
  + 'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT'
  + 'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,'
  + 'publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

function buildDictionary(): Buffer {
  const parts: Buffer[] = [];
  for (const word of dictionaryWords) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(word.length, 0);
    parts.push(length, Buffer.from(word, 'latin1'));
  }
  parts.push(Buffer.from(dictionaryTail, 'latin1'));
  return Buffer.concat(parts);
}

export function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const byte of bytes) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

export const spdyDictionary: Buffer = buildDictionary();
assert(spdyDictionary.length === 1423 && adler32(spdyDictionary) === 0xe3c6a7c2, 'the SPDY/3 header dictionary must be 1423 bytes with adler32 e3c6a7c2');

/**
 * One connection's inbound header decompression. Blocks must be inflated in frame order (the
 * zlib state carries over); callers serialize (port-forward-session.ts handles frames one by one).
 */
export class HeaderBlockInflater {
  private readonly inflate: Inflate;
  private output: Buffer[] = [];
  private outputBytes = 0;
  private failure: Error | null = null;

  constructor(private readonly blockBytesMax: number) {
    this.inflate = createInflate({ dictionary: spdyDictionary });
    this.inflate.on('data', (chunk: Buffer) => {
      this.output.push(chunk);
      this.outputBytes += chunk.length;
    });
    this.inflate.on('error', (error) => {
      this.failure = error;
    });
  }

  /** The inflated block of one SYN_STREAM; rejects with SpdyProtocolError on corrupt input or a block over the bound. */
  inflateBlock(compressed: Uint8Array): Promise<Buffer> {
    if (this.failure !== null) return Promise.reject(new SpdyProtocolError(`header decompression failed earlier: ${this.failure.message}`));
    return new Promise((resolve, reject) => {
      // zlib reports corrupt input as an 'error' and then never calls the flush back.
      const onError = (error: Error): void => reject(new SpdyProtocolError(`header decompression failed: ${error.message}`));
      this.inflate.once('error', onError);
      this.inflate.write(compressed);
      this.inflate.flush(constants.Z_SYNC_FLUSH, () => {
        this.inflate.off('error', onError);
        if (this.failure !== null) return onError(this.failure);
        // Anything the flush produced but 'data' has not delivered yet.
        for (let chunk = this.inflate.read() as Buffer | null; chunk !== null; chunk = this.inflate.read() as Buffer | null) {
          this.output.push(chunk);
          this.outputBytes += chunk.length;
        }
        const block = Buffer.concat(this.output);
        this.output = [];
        this.outputBytes = 0;
        if (block.length > this.blockBytesMax) return reject(new SpdyProtocolError(`SPDY header block of ${block.length} bytes exceeds ${this.blockBytesMax}`));
        resolve(block);
      });
    });
  }

  close(): void {
    this.inflate.destroy();
  }
}

/** Name → values of an inflated header block (names lowercase; a value may hold several, NUL-separated). */
export function parseHeaderBlock(block: Buffer, pairsMax: number): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  let offset = 0;
  const readString = (): string => {
    if (offset + 4 > block.length) throw new SpdyProtocolError('truncated SPDY header block');
    const length = block.readUInt32BE(offset);
    offset += 4;
    if (offset + length > block.length) throw new SpdyProtocolError('truncated SPDY header block');
    const value = block.subarray(offset, offset + length).toString('utf8');
    offset += length;
    return value;
  };
  if (block.length < 4) throw new SpdyProtocolError('truncated SPDY header block');
  const count = block.readUInt32BE(0);
  offset = 4;
  if (count > pairsMax) throw new SpdyProtocolError(`SPDY header block of ${count} pairs exceeds ${pairsMax}`);
  for (let index = 0; index < count; index++) {
    const name = readString().toLowerCase();
    const values = readString().split('\0');
    headers.set(name, [...(headers.get(name) ?? []), ...values]);
  }
  return headers;
}
