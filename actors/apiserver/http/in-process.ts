/**
 * One API request served in process: what the NATS front hands its own member's request pipeline
 * instead of a loopback HTTPS request (no TLS handshake or record layer, no HTTP parse or
 * serialization, no socket). The pipeline sees a real IncomingMessage (method, url, lower-cased
 * headers, the body as its stream) and a response that records status, headers and body.
 *
 * Decision: the response is a Writable implementing the part of ServerResponse the handlers use
 * (writeHead, set/get/has/removeHeader, headersSent, write/end, flushHeaders, destroy, 'close');
 * streaming answers (pod logs) are collected whole, as the NATS front always did. Upgrades and
 * watches never come here: the front serves watches as HTTPS streams.
 *
 * Decision: the request has no TLS socket, so it presents no client certificate: over NATS a
 * caller authenticates with its Authorization header only, as through the HTTPS forward before.
 */
import { IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';

export interface InProcessRequest {
  readonly method: string;
  /** Path and query on this API (`/api/v1/...?...`), already checked by the caller. */
  readonly url: string;
  /** Header names as sent; values strings. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
}

export interface InProcessResponse {
  readonly status: number;
  /** Lower-cased names, as an HTTP client would see them; repeated values joined with ", ". */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** The socket the request claims to come from: not readable (the body is pushed), no certificate, loopback. */
function detachedSocket(): Socket {
  return {
    readable: false, destroyed: false, encrypted: true, authorized: false, remoteAddress: '127.0.0.1', remotePort: 0,
    getPeerCertificate: () => ({}), destroy() { /* nothing to close */ }, on() { return this; }, once() { return this; },
    removeListener() { return this; }, off() { return this; }, resume() { return this; }, pause() { return this; }, setTimeout() { return this; },
  } as unknown as Socket;
}

export function inProcessRequest(request: InProcessRequest): IncomingMessage {
  const req = new IncomingMessage(detachedSocket());
  req.method = request.method;
  req.url = request.url;
  const headers: Record<string, string> = {};
  const raw: string[] = [];
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name.toLowerCase()] = value;
    raw.push(name, value);
  }
  const body = request.body;
  if (body !== undefined && body.byteLength > 0) headers['content-length'] = String(body.byteLength);
  req.headers = headers;
  req.rawHeaders = raw;
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.httpVersion = '1.1';
  if (body !== undefined && body.byteLength > 0) req.push(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  req.push(null);
  req.complete = true;
  return req;
}

type HeaderValue = string | number | readonly string[];

/** The recording response; `result` settles when the handler ends it (or destroys it). */
export class RecordingResponse extends Writable {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  private readonly headerValues = new Map<string, { name: string; value: HeaderValue }>();
  private readonly chunks: Buffer[] = [];

  /** Resolves with the answer once ended; with null when destroyed before its end (the handler gave up on it). */
  readonly result: Promise<InProcessResponse | null>;

  constructor() {
    super();
    this.result = new Promise((resolve) => {
      this.once('finish', () => resolve({ status: this.statusCode, headers: this.flatHeaders(), body: Buffer.concat(this.chunks) }));
      this.once('close', () => resolve(null));
    });
  }

  setHeader(name: string, value: HeaderValue): this {
    if (this.headersSent) throw Object.assign(new Error('Cannot set headers after they are sent to the client'), { code: 'ERR_HTTP_HEADERS_SENT' });
    this.headerValues.set(name.toLowerCase(), { name, value });
    return this;
  }

  getHeader(name: string): HeaderValue | undefined {
    return this.headerValues.get(name.toLowerCase())?.value;
  }

  getHeaders(): Record<string, HeaderValue> {
    return Object.fromEntries([...this.headerValues].map(([key, { value }]) => [key, value]));
  }

  getHeaderNames(): string[] {
    return [...this.headerValues.keys()];
  }

  hasHeader(name: string): boolean {
    return this.headerValues.has(name.toLowerCase());
  }

  removeHeader(name: string): void {
    this.headerValues.delete(name.toLowerCase());
  }

  writeHead(status: number, reasonOrHeaders?: string | Record<string, HeaderValue>, headers?: Record<string, HeaderValue>): this {
    const fields = typeof reasonOrHeaders === 'object' ? reasonOrHeaders : headers;
    if (typeof reasonOrHeaders === 'string') this.statusMessage = reasonOrHeaders;
    for (const [name, value] of Object.entries(fields ?? {})) this.setHeader(name, value);
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }

  flushHeaders(): void {
    this.headersSent = true;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.headersSent = true;
    this.chunks.push(chunk);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.headersSent = true;
    callback();
  }

  /** The handlers' type: they use only what this class implements (the module comment lists it). */
  asServerResponse(): ServerResponse {
    return this as unknown as ServerResponse;
  }

  private flatHeaders(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, { value }] of this.headerValues) out[key] = Array.isArray(value) ? value.join(', ') : String(value);
    return out;
  }
}
