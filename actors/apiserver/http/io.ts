/**
 * Request bodies in, JSON out. Every failure answered to a client is a Status (K8S-API.md §3);
 * bad input is always a 4xx: malformed JSON/YAML 400, protobuf 415, oversize 413.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../../bus/index.js';
import { parse as parseYaml } from 'yaml';
import { checkNestingDepth } from '../document-depth.js';
import { ApiError, apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';

export const protobufMediaType = 'application/vnd.kubernetes.protobuf';

/** The media type without parameters, lower-cased; a missing header counts as JSON (kubectl's /scale PUT sends none). */
export function requestMediaType(req: IncomingMessage): string {
  const header = req.headers['content-type'];
  if (header === undefined || header.trim() === '') return 'application/json';
  return (header.split(';')[0] ?? '').trim().toLowerCase();
}

/** Reads the whole body as UTF-8 text, refusing more than `limitBytes` before buffering it (413). */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  return (await readBodyBytes(req, limitBytes)).toString('utf8');
}

/** Bodies read before the request took its seat (readBodyFirst), handed to the handler's readBody. */
const bodiesReadFirst = new WeakMap<IncomingMessage, Buffer>();

/** Bytes held by bodies read ahead of their seat, across the server: bounds the memory stalled or slow seats can pin. */
export interface BodyBudget {
  used: number;
  readonly max: number;
}

/**
 * Reads the whole body before the request waits for a seat, within `timeoutMs` (408 and the
 * connection closed beyond it), at most `limitBytes` (413) and within the server's `budget` of
 * bytes read ahead (429 when it is spent). The handler's readBody then gets it at once. Returns
 * the function that gives the bytes back to the budget (call it when the request ends).
 */
export function readBodyFirst(req: IncomingMessage, res: ServerResponse, options: {
  readonly limitBytes: number; readonly timeoutMs: number; readonly clock: Clock; readonly budget: BodyBudget; readonly retryAfterSeconds: number;
}): Promise<() => void> {
  const { budget } = options;
  let held = 0;
  const giveBack = (): void => {
    budget.used -= held;
    held = 0;
  };
  return new Promise((resolve, reject) => {
    const fail = (error: ApiError): void => {
      options.clock.clearTimeout(timer);
      giveBack();
      reject(error);
    };
    const timer = options.clock.setTimeout(() => {
      res.setHeader('Connection', 'close');
      fail(new ApiError(408, 'Timeout', `the request body did not arrive within ${options.timeoutMs / 1000} s`));
    }, options.timeoutMs);
    const take = (bytes: number): boolean => {
      if (budget.used + bytes > budget.max) return false;
      budget.used += bytes;
      held += bytes;
      return true;
    };
    readBodyBytes(req, options.limitBytes, (bytes) => take(bytes)).then((body) => {
      options.clock.clearTimeout(timer);
      bodiesReadFirst.set(req, body);
      resolve(giveBack);
    }, (error: unknown) => {
      if (error instanceof ApiError) return fail(error.httpStatus === 429 ? apiErrors.tooManyRequests(options.retryAfterSeconds, error.message) : error);
      fail(apiErrors.badRequest('the request body could not be read'));
    });
  });
}

/**
 * The raw body (protobuf must not pass through UTF-8), at most `limitBytes` (413 beyond); a body
 * already read by readBodyFirst is returned from memory. `take` may refuse a chunk (429).
 */
export async function readBodyBytes(req: IncomingMessage, limitBytes: number, take?: (bytes: number) => boolean): Promise<Buffer> {
  const first = bodiesReadFirst.get(req);
  if (first !== undefined) return first;
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limitBytes) {
    req.resume();
    throw apiErrors.tooLarge(limitBytes);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > limitBytes) {
      req.resume();
      throw apiErrors.tooLarge(limitBytes);
    }
    if (take !== undefined && !take(buffer.length)) {
      req.resume();
      throw apiErrors.tooManyRequests(1, 'too many request bodies are being received; retry later');
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON or YAML document; refuses protobuf with the way around it. */
export function parseDocument(mediaType: string, body: string): unknown {
  if (mediaType === protobufMediaType) {
    throw apiErrors.unsupportedMediaType(
      'kubus accepts JSON and YAML request bodies only, not protobuf (kubectl 1.32 sends protobuf from `kubectl create <kind>` generators); ' +
      'write a manifest and use `kubectl create -f` / `kubectl apply -f`, or `kubectl create ... --dry-run=client -o yaml | kubectl apply -f -`');
  }
  const tooDeep = (limit: number): ApiError => apiErrors.badRequest(`the request body nests deeper than ${limit} levels`);
  if (mediaType === 'application/json') {
    checkNestingDepth(body, 'json', tooDeep);
    try {
      return JSON.parse(body) as unknown;
    } catch (error) {
      throw apiErrors.badRequest(`the request body is not valid JSON: ${(error as Error).message}`);
    }
  }
  if (mediaType === 'application/yaml' || mediaType === 'application/x-yaml' || mediaType === 'text/yaml') {
    checkNestingDepth(body, 'yaml', tooDeep);
    try {
      return parseYaml(body, { maxAliasCount: 100 }) as unknown;
    } catch (error) {
      throw apiErrors.badRequest(`the request body is not valid YAML: ${(error as Error).message}`);
    }
  }
  throw apiErrors.unsupportedMediaType(
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
}

/** A body that must be one Kubernetes object. */
export function parseObject(mediaType: string, body: string): KubeObject {
  const value = parseDocument(mediaType, body);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw apiErrors.badRequest('the request body must be a JSON object');
  }
  const object = value as Record<string, unknown>;
  if (object['metadata'] === undefined || object['metadata'] === null) object['metadata'] = {};
  if (typeof object['metadata'] !== 'object' || Array.isArray(object['metadata'])) {
    throw apiErrors.badRequest('metadata must be an object');
  }
  return object as KubeObject;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, error: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // client-go retries a 429/5xx that carries Retry-After; only send it when a retry is wanted.
  const retry = error.details?.retryAfterSeconds;
  if (retry !== undefined) res.setHeader('Retry-After', String(retry));
  sendJson(res, error.httpStatus, error.toStatus());
}

export function successStatus(code: number, details?: Record<string, unknown>): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', ...(details !== undefined ? { details } : {}), code };
}

/** Query helpers: kubectl and the JS client send booleans as `true` or `1`. */
export function queryFlag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  return value === 'true' || value === '1';
}

export function queryString(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  return value === null || value === '' ? undefined : value;
}

export function queryInteger(query: URLSearchParams, name: string): number | undefined {
  const value = queryString(query, name);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw apiErrors.badRequest(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return parsed;
}

/** True when the Accept header asks for a meta.k8s.io Table (kubectl's human-readable `get`). */
export function wantsTable(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? '';
  return accept.split(',').some((part) => /;\s*as=Table/.test(part) && /g=meta\.k8s\.io/.test(part));
}
