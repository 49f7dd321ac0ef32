/**
 * The Kubernetes-compatible HTTPS front (issue 3): discovery, health, and the resource verbs on
 * top of the ObjectStore. One request passes: in-flight bound → route → authenticate (every
 * path but the health checks) → discovery or dispatch (authorize → admit → store) → JSON.
 *
 * Decision: node:https over HTTP/1.1 only. kubectl tries HTTP/2 via ALPN and falls back; client-node
 * speaks 1.1; watches are plain chunked responses, which 1.1 serves well.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { SystemClock, type Clock, type Logger } from '../../bus/index.js';
import {
  aggregatedDiscovery, aggregatedDiscoveryMediaType, legacyApiVersions, legacyGroup, legacyGroupList, openapiDocument, openapiRoot,
  resourceList, serverVersion, wantsAggregated,
} from './discovery.js';
import type { ServerContext, WatchSlots } from './http/context.js';
import type { NodeRpc } from './http/node-rpc.js';
import { allowAll, builtInAdmission, type Admission, type Authorizer } from './http/admission.js';
import { dispatchResource, isWatch } from './http/dispatch.js';
import { handleNodeCredentials, type NodeCredentialsIssuer } from './http/node-credentials.js';
import { readBodyFirst, sendError, sendJson, type BodyBudget } from './http/io.js';
import { RecordingResponse, inProcessRequest, type InProcessRequest, type InProcessResponse } from './http/in-process.js';
import { FairQueues, admittedMax, fairnessLimits } from './http/fairness.js';
import { impersonate } from './http/impersonation.js';
import { checkHttpLimits, defaultHttpLimits, type HttpLimits } from './http/limits.js';
import type { ObjectStorage } from './http/objects-port.js';
import { notFoundPath, parseRoute, type Route } from './http/route.js';
import { ApiError, apiErrors } from './status.js';
import type { UserInfo } from './types.js';
import { isAuthorizationReview, serveAuthorizationReview } from './authz/index.js';
import { createStreamingFront, upgradeObserver, type NodeStreams } from './http/streaming/index.js';
import { metricsPath, observeApiRequest, serveMetrics as serveMetricsEndpoint } from './http/prometheus.js';
import {
  serveAuthenticationEndpoint, type AuthenticationRequest, type Authenticator, type ClientCertificate, type ClientCertificateValidity,
} from './authn/index.js';
import { isMetricsResource, serveMetrics, type MetricsSource } from './metrics/index.js';
import type { MemberTelemetry } from '../../bus/telemetry/index.js';

export type { Authenticator } from './authn/index.js';

export interface ApiServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /**
   * `clientCaPem`: the CA whose client certificates authenticate (CN user, O groups). The server
   * then asks every client for a certificate but lets those without one through to the token
   * authenticators (requestCert, rejectUnauthorized false), as kube-apiserver does.
   */
  readonly tls: { readonly certPem: string; readonly keyPem: string; readonly clientCaPem?: string };
  readonly authenticator: Authenticator;
  /** Issues node agents' bus users and API tokens (`POST nodes/<name>/credentials`); without it that answers 503. */
  readonly nodeCredentials?: NodeCredentialsIssuer;
  /** Prometheus: the member's registry (served at `/metrics`) and the API request series. */
  readonly telemetry?: MemberTelemetry;
  /** The agents' metrics reports (metrics.k8s.io); without it those requests answer 503. */
  readonly metrics?: MetricsSource;
  /** The member's way to reach node agents over `node.<N>.rpc` (pods/log). */
  readonly nodeRpc?: NodeRpc;
  /** The member's streams to node agents (exec, attach, port-forward); without it those answer 503. The server closes it. */
  readonly nodeStreams?: NodeStreams;
  /** Signs TokenRequest tokens (`pki/sa.key`); without it TokenRequest answers 503. */
  readonly serviceAccountKeyPem?: string;
  readonly objects: ObjectStorage;
  /** Default: every authenticated user may do everything. */
  readonly authorizer?: Authorizer;
  /** Default: the built-in defaulting and validation only. */
  readonly admission?: Admission;
  readonly logger: Logger;
  readonly limits?: Partial<HttpLimits>;
  /** `/readyz`: e.g. "the store has a leader". Defaults to always ready. */
  readonly ready?: () => Promise<boolean>;
  readonly clock?: Clock;
  readonly wallClock?: () => Date;
}

export interface RunningApiServer {
  readonly port: number;
  readonly url: string;
  /**
   * One request through the same pipeline as HTTPS (in-flight bound, authentication, fairness,
   * authorization, admission, metrics), without a socket: the NATS front's way in (http/in-process.ts).
   * Null when the handler destroyed the response before its end. Never for watches or upgrades.
   */
  serveInProcess(request: InProcessRequest): Promise<InProcessResponse | null>;
  close(): Promise<void>;
}

export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const limits: HttpLimits = { ...defaultHttpLimits, ...options.limits };
  checkHttpLimits(limits);
  // Requests admitted to the process (seated, queued, or a watch being set up) and open watch streams.
  const counters = { inFlight: 0, watches: 0 };
  const watchSlots: WatchSlots = {
    tryAcquire() {
      if (counters.watches >= limits.watchesMax) return null;
      counters.watches += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        counters.watches -= 1;
      };
    },
  };
  const context: ServerContext = {
    objects: options.objects, authorizer: options.authorizer ?? allowAll, admission: options.admission ?? builtInAdmission, limits, logger: options.logger.child({ component: 'apiserver' }),
    clock: options.clock ?? new SystemClock(), wallClock: options.wallClock ?? (() => new Date()), watchSlots,
    ...(options.nodeRpc !== undefined ? { nodeRpc: options.nodeRpc } : {}),
  };
  const bodyBudget: BodyBudget = { used: 0, max: limits.bodyBytesReadAheadMax };
  const fairQueues = new FairQueues({ inFlightMax: limits.inFlightMax, retryAfterSeconds: limits.retryAfterSeconds, clock: context.clock });
  const clientCa = options.tls.clientCaPem;
  const tlsOptions = clientCa === undefined ? {} : { requestCert: true, rejectUnauthorized: false, ca: clientCa };
  const server: Server = createServer({ cert: options.tls.certPem, key: options.tls.keyPem, ...tlsOptions }, (req, res) => void respond(req, res));

  /** Every request, from a socket or in process: handled, and a failure answered 500 (or the response cut). */
  function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return handle(req, res).catch((error: unknown) => {
      // A client that hung up mid-request is not a server failure.
      if (req.destroyed && !req.complete) {
        context.logger.debug('client went away', { method: req.method, url: req.url });
        return;
      }
      context.logger.error('request failed', { method: req.method, url: req.url, error: String(error) });
      if (!res.headersSent) sendError(res, apiErrors.internal('internal error'));
      else res.destroy();
    });
  }

  async function serveInProcess(request: InProcessRequest): Promise<InProcessResponse | null> {
    const req = inProcessRequest(request);
    const res = new RecordingResponse();
    await respond(req, res.asServerResponse());
    // Every handler but a watch's ends its response before it returns; one that did not is cut, as a socket would be.
    if (!res.writableEnded) res.destroy();
    return res.result;
  }

  /**
   * Every request, a watch included, holds an admitted slot until its handler returns (a watch's
   * returns once its stream is set up); the watch stream itself holds a watch slot, taken by
   * handleWatch once the watch is authorized. Before, a watch took its slot here and only the
   * stream released it, so 1,000 refused (401/403) watches used up every slot for good.
   */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Prometheus: rate and latency by verb, resource and code, every request counted (refusals too).
    if (options.telemetry !== undefined) observeApiRequest(options.telemetry.api, req, res, context.clock);
    const url = new URL(req.url ?? '/', 'https://kubus.invalid');
    // Before authentication only a coarse bound: requests admitted to the process, seated or queued.
    if (counters.inFlight >= admittedMax(limits)) {
      req.resume();
      sendError(res, apiErrors.tooManyRequests(limits.retryAfterSeconds));
      return;
    }
    counters.inFlight += 1;
    try {
      await serve(req, res, url);
    } catch (error) {
      if (error instanceof ApiError) {
        if (error.httpStatus >= 500) context.logger.warn('request failed', { method: req.method, url: req.url, status: error.httpStatus, message: error.message });
        req.resume();
        sendError(res, error);
        return;
      }
      throw error;
    } finally {
      counters.inFlight -= 1;
    }
  }

  async function serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const route = parseRouteOrNull(url.pathname);
    if (route?.type === 'health') {
      const ok = route.check === 'readyz' && options.ready !== undefined ? await options.ready() : true;
      res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(ok ? 'ok' : `${route.check} check failed`);
      return;
    }
    const caller = await options.authenticator.authenticate(authenticationRequest(req, clientCa !== undefined));
    if (caller === null) throw apiErrors.unauthorized();
    // `/metrics` for Prometheus, authorized as a non-resource URL (get /metrics).
    if (route === null && url.pathname === metricsPath && options.telemetry !== undefined) {
      return serveMetricsEndpoint({ req, res, user: await impersonate(req, caller, context.authorizer), authorizer: context.authorizer, telemetry: options.telemetry });
    }
    if (route === null) throw notFoundPath();
    const user = await impersonate(req, caller, context.authorizer);
    // Streams are bounded by watchesMax (handleWatch); every other request reads its body, then waits for a seat of its priority level.
    if (isWatch(req.method ?? 'GET', url.searchParams)) return serveAuthenticated(req, res, url, route, user);
    const giveBack = await readBodyFirst(req, res, {
      limitBytes: limits.requestBodyBytesMax, timeoutMs: fairnessLimits.bodyReadTimeoutMs, clock: context.clock, budget: bodyBudget, retryAfterSeconds: limits.retryAfterSeconds,
    });
    try {
      const seat = await fairQueues.acquire({
        user, verb: req.method ?? 'GET', resource: route.type === 'resource' ? route.info.resource : null, namespace: route.type === 'resource' ? route.namespace : null,
      });
      try {
        await serveAuthenticated(req, res, url, route, user);
      } finally {
        seat();
      }
    } finally {
      giveBack();
    }
  }

  async function serveAuthenticated(req: IncomingMessage, res: ServerResponse, url: URL, route: Exclude<Route, { type: 'health' }>, user: UserInfo): Promise<void> {
    if (route.type === 'resource') {
      const ctx = { server: context, req, res, query: url.searchParams, route, user };
      if (await serveAuthenticationEndpoint(ctx, options.serviceAccountKeyPem ?? null)) return;
      if (isAuthorizationReview(route.info)) return serveAuthorizationReview(ctx);
      if (isNodeCredentials(req, route)) return handleNodeCredentials(ctx, options.nodeCredentials ?? null);
      // metrics.k8s.io is served from the agents' reports (it authorizes itself), never from the store.
      if (isMetricsResource(route.info)) return serveMetrics(ctx, options.metrics ?? null);
      await dispatchResource(ctx);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw apiErrors.methodNotAllowed(`${req.method ?? ''} is not allowed on ${url.pathname}`);
    serveDiscovery(req, res, route);
  }

  function serveDiscovery(req: IncomingMessage, res: ServerResponse, route: Exclude<Route, { type: 'resource' | 'health' }>): void {
    const found = (doc: object | undefined): object => {
      if (doc === undefined) throw notFoundPath();
      return doc;
    };
    switch (route.type) {
      case 'version': return sendJson(res, 200, serverVersion);
      case 'api':
        if (wantsAggregated(req.headers.accept)) return sendJson(res, 200, aggregatedDiscovery(true), aggregatedDiscoveryMediaType);
        return sendJson(res, 200, legacyApiVersions(req.headers.host ?? `${options.host}`));
      case 'apis':
        if (wantsAggregated(req.headers.accept)) return sendJson(res, 200, aggregatedDiscovery(false), aggregatedDiscoveryMediaType);
        return sendJson(res, 200, legacyGroupList());
      case 'group': return sendJson(res, 200, found(legacyGroup(route.group)));
      case 'groupVersion': return sendJson(res, 200, found(resourceList(route.group, route.version)));
      case 'openapiV3Root': return sendJson(res, 200, openapiRoot());
      case 'openapiV3': return sendJson(res, 200, found(openapiDocument(route.group, route.version)));
      case 'openapiV2': throw notFoundPath();
    }
  }

  // exec, attach and port-forward: WebSocket upgrades, through the same authentication, authorization and fairness (http/streaming/).
  const upgrades = options.telemetry !== undefined ? upgradeObserver(options.telemetry.api) : null;
  const streaming = createStreamingFront({
    objects: context.objects, authorizer: context.authorizer, logger: context.logger, clock: context.clock, retryAfterSeconds: limits.retryAfterSeconds,
    nodeStreams: options.nodeStreams ?? null,
    ...(upgrades !== null ? { onOutcome: upgrades.outcome } : {}),
    authenticate: async (req) => {
      const caller = await options.authenticator.authenticate(authenticationRequest(req, clientCa !== undefined));
      if (caller === null) throw apiErrors.unauthorized();
      return impersonate(req, caller, context.authorizer);
    },
    seat: (user, namespace) => fairQueues.acquire({ user, verb: 'POST', resource: 'pods', namespace }),
    admit: () => {
      if (counters.inFlight >= admittedMax(limits)) return null;
      counters.inFlight += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        counters.inFlight -= 1;
      };
    },
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    upgrades?.observe(req, socket);
    streaming.handleUpgrade(req, socket, head);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  context.logger.info('api server listening', { host: options.host, port });
  return {
    port,
    url: `https://${hostForUrl}:${port}`,
    serveInProcess,
    close: () => new Promise<void>((resolve) => {
      streaming.close();
      server.close(() => resolve());
      // Watches are long-lived; closing their sockets is what lets close() finish.
      server.closeAllConnections();
    }),
  };
}

/** What the request presents: its Authorization header and, when client certificates are requested, the one it sent. */
function authenticationRequest(req: IncomingMessage, certificatesRequested: boolean): AuthenticationRequest {
  return { authorization: req.headers.authorization, clientCertificate: certificatesRequested ? peerCertificate(req.socket as TLSSocket) : null };
}

function peerCertificate(socket: TLSSocket): (ClientCertificate & ClientCertificateValidity) | null {
  const cert = socket.getPeerCertificate();
  // No certificate sent: Node answers an empty object.
  if (cert === null || Object.keys(cert).length === 0) return null;
  const error = socket.authorizationError as Error | string | null | undefined;
  const notBeforeMs = Date.parse(cert.valid_from);
  return {
    authorized: socket.authorized,
    authorizationError: error === null || error === undefined ? null : typeof error === 'string' ? error : ((error as { code?: string }).code ?? error.message),
    subject: (cert.subject ?? {}) as unknown as ClientCertificate['subject'],
    // When it was issued: a revoked node's certificates from before the revocation are refused (authn/node-identity-guard.ts).
    notBeforeMs: Number.isFinite(notBeforeMs) ? notBeforeMs : null,
  };
}

/** `POST nodes/<name>/credentials`: served here because it needs the member's bus authority, which ordinary handlers do not hold. */
function isNodeCredentials(req: IncomingMessage, route: Extract<Route, { type: 'resource' }>): boolean {
  return req.method === 'POST' && route.info.group === '' && route.info.resource === 'nodes' && route.subresource === 'credentials' && route.name !== null;
}

function parseRouteOrNull(pathname: string): Route | null {
  try {
    return parseRoute(pathname);
  } catch {
    return null;
  }
}
