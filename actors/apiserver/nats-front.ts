/**
 * The Kubernetes API over NATS, for internal components: requests on `kubus.<cluster>.api` (a
 * queue group, so any member answers) carry method, path, headers and body; the answer carries
 * status, headers and body, exactly what the HTTPS front would have answered.
 *
 * Decision: the NATS front forwards to this member's own HTTPS front on loopback, so there is one
 * request pipeline (authentication, admission, validation, storage) behind both, at the price of
 * a loopback hop. Watches are streams and are refused here for now: use HTTPS, or the store watch.
 */
import { Agent, request as httpsRequest } from 'node:https';
import type { Bus } from '../../bus/transport.js';
import { call, serve, type Server } from '../../bus/rpc.js';
import { subjects } from '../../bus/subjects.js';
import { apiErrors } from './status.js';

export const natsFrontLimits = {
  /** Requests forwarded at once; like the HTTPS front's in-flight bound, beyond it they queue. */
  concurrencyMax: 256,
  /** Requests queued beyond that before they are dropped (the caller's deadline answers them). */
  pendingMax: 2_048,
  /** A forwarded request that takes longer than this is answered 504 by the front itself. */
  forwardTimeoutMs: 30_000,
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

export function serveApiOverNats(options: { bus: Bus; cluster: string; apiUrl: string; caCertPem: string }): Server {
  const agent = new Agent({ keepAlive: true, maxSockets: natsFrontLimits.concurrencyMax, ca: options.caCertPem });
  const server = serve(options.bus, subjects(options.cluster).api(), (raw) => forward(raw as ApiNatsRequest), {
    concurrencyMax: natsFrontLimits.concurrencyMax,
    pendingMax: natsFrontLimits.pendingMax,
    queue: 'api',
  });
  const forward = (request: ApiNatsRequest): Promise<ApiNatsResponse> => {
    if (typeof request?.method !== 'string' || typeof request.path !== 'string' || !request.path.startsWith('/')) {
      return Promise.resolve(statusResponse(apiErrors.badRequest('an API request over NATS needs method and an absolute path')));
    }
    const url = new URL(request.path, options.apiUrl);
    if (/^(1|true)$/.test(url.searchParams.get('watch') ?? '')) {
      return Promise.resolve(statusResponse(apiErrors.badRequest('watch is not served over NATS yet; watch over HTTPS')));
    }
    return new Promise((resolve) => {
      const outgoing = httpsRequest(url, { method: request.method, agent, headers: { ...request.headers }, timeout: natsFrontLimits.forwardTimeoutMs }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({
          status: response.statusCode ?? 500,
          headers: Object.fromEntries(Object.entries(response.headers).flatMap(([key, value]) => (typeof value === 'string' ? [[key, value]] : []))),
          body: Buffer.concat(chunks),
        }));
      });
      outgoing.on('timeout', () => outgoing.destroy(new Error('timeout')));
      outgoing.on('error', (error) => resolve(statusResponse(apiErrors.timeout(`the API request did not complete: ${error.message}`))));
      outgoing.end(request.body === undefined ? undefined : Buffer.from(request.body));
    });
  };
  return {
    ...server,
    stop() {
      server.stop();
      agent.destroy();
    },
  };
}

/** One API request over NATS: what an internal component uses instead of HTTPS. */
export function callApiOverNats(bus: Bus, cluster: string, request: ApiNatsRequest, timeoutMs: number): Promise<ApiNatsResponse> {
  return call<ApiNatsResponse>(bus, subjects(cluster).api(), request, { timeoutMs });
}

function statusResponse(error: ReturnType<typeof apiErrors.badRequest>): ApiNatsResponse {
  return { status: error.httpStatus, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(error.toStatus())) };
}
