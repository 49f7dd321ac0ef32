/**
 * The Kubernetes API over NATS, for internal components: requests on `kubus.<cluster>.api` (a
 * queue group, so any member answers) carry method, path, headers and body; the answer carries
 * status, headers and body, exactly what the HTTPS front would have answered.
 *
 * Decision: there is one request pipeline (authentication, fairness, authorization, admission,
 * validation, storage, metrics) behind both fronts. Inside a member the front hands each request to
 * that pipeline in process (`local`: RunningApiServer.serveInProcess, http/in-process.ts): no TLS
 * handshake or records, no HTTP serialization and parse, no socket. The caller's credentials travel
 * as before, in its Authorization header; a client certificate cannot come over NATS. Without
 * `local` (a front outside a member) it forwards over HTTPS to `apiUrl`, as it always did.
 *
 * Decision: watches are leased streams (nats-watch-protocol.ts). A watch request carries an inbox; the
 * front opens the HTTPS watch, answers with its status and headers (naming this member and the
 * stream on a 200), and relays each event line to the inbox as a numbered frame. A watch without
 * an inbox (`callApiOverNats`) is refused with 400 pointing at `watchApiOverNats`. Watches use
 * their own HTTPS agent: they hold a socket for minutes, and must not take the sockets ordinary
 * requests are bounded by.
 */
import { Agent, request as httpsRequest } from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { randomInt } from 'node:crypto';
import type { Bus } from '../../bus/transport.js';
import type { Clock } from '../../bus/clock.js';
import { SystemClock } from '../../bus/clock.js';
import { Prng } from '../../bus/prng.js';
import { call, serve, type Server } from '../../bus/rpc.js';
import { subjects } from '../../bus/subjects.js';
import { apiErrors, type ApiError } from './status.js';
import { isClientInbox, natsWatchLimits, type ApiNatsWatchRequest, type ApiNatsWatchResponse } from './nats-watch-protocol.js';
import { WatchStreams, type WatchSource } from './nats-watch-front.js';
import type { InProcessRequest, InProcessResponse } from './http/in-process.js';

export const natsFrontLimits = {
  /** Requests forwarded at once; like the HTTPS front's in-flight bound, beyond it they queue. */
  concurrencyMax: 256,
  /** Requests queued beyond that before they are dropped (the caller's deadline answers them). */
  pendingMax: 2_048,
  /** A forwarded request (or a watch's status and headers) that takes longer than this is answered 504 by the front itself. */
  forwardTimeoutMs: 30_000,
  /** Seconds a 429 for a front serving `streamsMax` watches suggests waiting (the HTTPS front's `retryAfterSeconds`). */
  retryAfterSeconds: 1,
} as const;

export interface ApiNatsRequest {
  readonly method: string;
  /** Path with query, e.g. `/api/v1/namespaces/default/pods?limit=10`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
}

export interface ApiNatsResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export interface ApiNatsServer extends Server {
  /** Watch streams this front relays now. */
  activeStreams(): number;
}

export interface ApiNatsFrontOptions {
  readonly bus: Bus;
  readonly cluster: string;
  readonly apiUrl: string;
  readonly caCertPem: string;
  /** This member's id, where watch renewals reach this front; a front outside a member (tests, tools) gets a random one. */
  readonly self?: string;
  /** This member's pipeline in process, for every request but watches (those stay HTTPS streams); absent: HTTPS to apiUrl. */
  readonly local?: (request: InProcessRequest) => Promise<InProcessResponse | null>;
  /** Watch streams not renewed for this long are ended (default `natsWatchLimits.leaseMs`). */
  readonly watchLeaseMs?: number;
  readonly clock?: Clock;
}

export function serveApiOverNats(options: ApiNatsFrontOptions): ApiNatsServer {
  const random = new Prng(randomInt(2 ** 31));
  const agent = new Agent({ keepAlive: true, maxSockets: natsFrontLimits.concurrencyMax, ca: options.caCertPem });
  const watchAgent = new Agent({ keepAlive: false, maxSockets: natsWatchLimits.streamsMax, ca: options.caCertPem });
  const clock = options.clock ?? new SystemClock();
  const streams = new WatchStreams({
    bus: options.bus, cluster: options.cluster, self: options.self ?? `front-${random.nextUint32().toString(16)}`,
    clock, random,
    ...(options.watchLeaseMs !== undefined ? { leaseMs: options.watchLeaseMs } : {}),
  });
  const forward = (raw: unknown): Promise<ApiNatsResponse> => {
    const request = raw as ApiNatsWatchRequest;
    if (typeof request?.method !== 'string' || typeof request.path !== 'string' || !request.path.startsWith('/')) {
      return Promise.resolve(statusResponse(apiErrors.badRequest('an API request over NATS needs method and an absolute path')));
    }
    const url = apiRequestUrl(options.apiUrl, request.path);
    const headers = forwardedHeaders(request.headers);
    const bodyOk = request.body === undefined || request.body === null || request.body instanceof Uint8Array;
    if (url === null || headers === null || !bodyOk || !methodPattern.test(request.method)) {
      return Promise.resolve(statusResponse(apiErrors.badRequest('an API request over NATS needs a method token, a path on this API, string headers and a binary body')));
    }
    if (/^(1|true)$/.test(url.searchParams.get('watch') ?? '')) return openWatch({ ...request, headers }, url);
    if (options.local !== undefined) return serveLocally(options.local, request, headers, url);
    // The caller's framing headers were dropped above; a body gets its own length here (Node adds none for DELETE, and the
    // body would then be read as the next request on the kept-alive socket).
    const body = request.body instanceof Uint8Array ? Buffer.from(request.body) : undefined;
    const framed = body !== undefined ? { ...headers, 'content-length': String(body.byteLength) } : headers;
    return new Promise((resolve) => {
      const outgoing = httpsRequest(url, { method: request.method, agent, headers: framed, timeout: natsFrontLimits.forwardTimeoutMs }, (response) => {
        void readResponse(response).then(resolve);
      });
      outgoing.on('timeout', () => outgoing.destroy(new Error('timeout')));
      outgoing.on('error', (error) => resolve(statusResponse(apiErrors.timeout(`the API request did not complete: ${error.message}`))));
      outgoing.end(body);
    });
  };
  /** In process; within the same bound as a forwarded request (504 beyond it, the handler left to finish alone). */
  const serveLocally = (local: NonNullable<ApiNatsFrontOptions['local']>, request: ApiNatsRequest, headers: Record<string, string>, url: URL): Promise<ApiNatsResponse> => {
    // What an HTTPS request to apiUrl would carry: Host names the API (discovery answers with it).
    const body = request.body instanceof Uint8Array ? request.body : undefined;
    const served = local({ method: request.method, url: `${url.pathname}${url.search}`, headers: { ...headers, host: url.host }, ...(body !== undefined ? { body } : {}) });
    return new Promise((resolve) => {
      const timer = clock.setTimeout(() => resolve(statusResponse(apiErrors.timeout('the API request did not complete: timeout'))), natsFrontLimits.forwardTimeoutMs);
      served.then((answer) => {
        clock.clearTimeout(timer);
        resolve(answer ?? statusResponse(apiErrors.timeout('the API request did not complete: the response was cut')));
      }, (error: unknown) => {
        clock.clearTimeout(timer);
        resolve(statusResponse(apiErrors.internal(`the API request failed: ${(error as Error).message}`)));
      });
    });
  };
  const openWatch = (request: ApiNatsWatchRequest, url: URL): Promise<ApiNatsWatchResponse> => {
    if (!isClientInbox(options.cluster, request.inbox)) {
      return Promise.resolve(statusResponse(apiErrors.badRequest(
        `a watch over NATS needs an inbox kubus.${options.cluster}.inbox.<owner>.<id> to stream to: use watchApiOverNats, not callApiOverNats`,
      )));
    }
    if (!streams.reserve()) {
      const refused = statusResponse(apiErrors.tooManyRequests(natsFrontLimits.retryAfterSeconds));
      return Promise.resolve({ ...refused, headers: { ...refused.headers, 'retry-after': String(natsFrontLimits.retryAfterSeconds) } });
    }
    return new Promise((resolve) => {
      let answered = false;
      const outgoing = httpsRequest(url, { method: request.method, agent: watchAgent, headers: request.headers, timeout: natsFrontLimits.forwardTimeoutMs }, (response) => {
        answered = true;
        if (response.statusCode !== 200) {
          streams.release();
          void readResponse(response).then(resolve);
          return;
        }
        // From here on silence is normal (a quiet resource): only the lease and the server's timeoutSeconds end it.
        outgoing.setTimeout(0);
        response.setEncoding('utf8');
        const stream = streams.open(request.inbox, httpsWatchSource(outgoing, response));
        resolve({ status: 200, headers: headersOf(response), body: new Uint8Array(0), stream });
      });
      outgoing.on('timeout', () => outgoing.destroy(new Error('timeout')));
      outgoing.on('error', (error) => {
        if (answered) return; // after the answer: the stream's source reports it
        streams.release();
        resolve(statusResponse(apiErrors.timeout(`the watch did not start: ${error.message}`)));
      });
      outgoing.end();
    });
  };
  const server = serve(options.bus, subjects(options.cluster).api(), forward, {
    concurrencyMax: natsFrontLimits.concurrencyMax,
    pendingMax: natsFrontLimits.pendingMax,
    queue: 'api',
  });
  return {
    ...server,
    activeStreams: () => streams.activeCount(),
    stop() {
      server.stop();
      streams.stop();
      agent.destroy();
      watchAgent.destroy();
    },
  };
}

/** An HTTP method is a token (RFC 9110): anything else would make the outgoing request throw or be malformed. */
const methodPattern = /^[A-Z]{1,16}$/;

/**
 * The URL a NATS request's path names on this member's own API: the origin is always the API's,
 * whatever the path says. `new URL('//host:port/x', api)` is `https://host:port/x`, and `/\\host`
 * means the same to the WHATWG parser: the member would connect wherever a caller asked and report
 * whether the port answered. Null when the path is not an absolute path on the API.
 */
export function apiRequestUrl(apiUrl: string, path: string): URL | null {
  const base = new URL(apiUrl);
  if (!path.startsWith('/') || path.startsWith('//') || path.startsWith('/\\')) return null;
  let parsed: URL;
  try {
    parsed = new URL(path, base);
  } catch {
    return null;
  }
  if (parsed.origin !== base.origin) return null;
  const url = new URL(base.origin);
  url.pathname = parsed.pathname;
  url.search = parsed.search;
  return url;
}

/**
 * Headers passed on to the HTTPS front: string values only, and none of those that frame the
 * message or steer the connection (a caller's `content-length: 0` with a body would otherwise
 * smuggle a second request onto a kept-alive socket shared with other callers). Null when a value
 * is not a string.
 */
export function forwardedHeaders(headers: unknown): Record<string, string> | null {
  if (headers === undefined || headers === null) return {};
  if (typeof headers !== 'object' || Array.isArray(headers)) return null;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof value !== 'string') return null;
    // Characters Node would refuse (CR, LF, NUL) end the request here rather than in httpsRequest.
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/.test(name) || /[\r\n\0]/.test(value)) return null;
    if (hopHeaders.has(name.toLowerCase())) continue;
    out[name] = value;
  }
  return out;
}

/** Headers that describe the connection or the message framing, not the request (RFC 9110 §7.6.1). */
const hopHeaders = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect',
  'proxy-connection', 'proxy-authorization', 'proxy-authenticate',
]);

/** One API request over NATS: what an internal component uses instead of HTTPS. Watches: `watchApiOverNats`. */
export function callApiOverNats(bus: Bus, cluster: string, request: ApiNatsRequest, timeoutMs: number): Promise<ApiNatsResponse> {
  return call<ApiNatsResponse>(bus, subjects(cluster).api(), request, { timeoutMs });
}

function httpsWatchSource(outgoing: ClientRequest, response: IncomingMessage): WatchSource {
  return {
    start(sink) {
      response.on('data', (text: string) => sink.data(text));
      response.on('end', () => sink.end());
      response.on('close', () => sink.end(new Error('the HTTPS watch closed before its end')));
      response.on('error', (error) => sink.end(error));
      outgoing.on('error', (error) => sink.end(error));
    },
    abort: () => outgoing.destroy(),
  };
}

function readResponse(response: IncomingMessage): Promise<ApiNatsResponse> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve({ status: response.statusCode ?? 500, headers: headersOf(response), body: Buffer.concat(chunks) }));
    response.on('error', (error) => resolve(statusResponse(apiErrors.timeout(`the API response did not complete: ${error.message}`))));
  });
}

function headersOf(response: IncomingMessage): Record<string, string> {
  return Object.fromEntries(Object.entries(response.headers).flatMap(([key, value]) => (typeof value === 'string' ? [[key, value]] : [])));
}

function statusResponse(error: ApiError): ApiNatsResponse {
  return { status: error.httpStatus, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(error.toStatus())) };
}
