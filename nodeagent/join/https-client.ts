/**
 * The few HTTPS calls of joining and renewal (CSR create/get, node credentials), with the pinned
 * CA, as the bootstrap token or the node's certificate. Everything after the join goes over NATS.
 */
import { request } from 'node:https';
import { joinLimits } from './limits.js';

export interface HttpsTarget {
  readonly server: string;
  readonly caPem: string;
  /** Bearer token (the bootstrap token) or client certificate (the node's). */
  readonly auth: { readonly token: string } | { readonly certPem: string; readonly keyPem: string };
}

export interface JsonResponse {
  readonly status: number;
  readonly json: Record<string, unknown>;
}

/** Thrown for transport failures only (refused, reset, timeout): the caller retries those. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  /** A certificate or host name refused under the pinned CA is not cured by waiting. */
  readonly retryable: boolean;
  constructor(message: string, code?: string) {
    super(message);
    this.retryable = !(code !== undefined && /^(ERR_TLS|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED)/.test(code));
  }
}

/**
 * Answers that say "not now" rather than "no": too many requests, or a store without quorum or
 * timing out (503/504 while members elect). A join retries them like an unreachable server.
 */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

export function callJson(target: HttpsTarget, method: string, path: string, body?: unknown): Promise<JsonResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const auth = 'token' in target.auth ? { headers: { Authorization: `Bearer ${target.auth.token}` } } : { cert: target.auth.certPem, key: target.auth.keyPem };
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, target.server), {
      method, ca: target.caPem, timeout: joinLimits.requestTimeoutMs,
      ...('cert' in auth ? { cert: auth.cert, key: auth.key } : {}),
      headers: {
        Accept: 'application/json', ...('headers' in auth ? auth.headers : {}),
        ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > joinLimits.responseBytesMax) {
          req.destroy(new TransportError(`response larger than ${joinLimits.responseBytesMax} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> = {};
        try {
          json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
        } catch {
          json = { message: text.slice(0, 500) };
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
      res.on('error', (error) => reject(new TransportError(error.message)));
    });
    req.on('timeout', () => req.destroy(new TransportError(`no answer within ${joinLimits.requestTimeoutMs} ms`)));
    req.on('error', (error: Error & { code?: string }) => reject(error instanceof TransportError ? error : new TransportError(error.message, error.code)));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** The `message` of a Kubernetes Status body, or the status code. */
export function statusMessage(response: JsonResponse): string {
  const message = response.json['message'];
  return typeof message === 'string' && message !== '' ? message : `HTTP ${response.status}`;
}
