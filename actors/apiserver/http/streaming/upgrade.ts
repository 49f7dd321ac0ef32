/**
 * The HTTPS server's `'upgrade'` requests: `kubectl exec`, `attach` (WebSocket, subprotocol
 * v5.channel.k8s.io) and `port-forward` (WebSocket, SPDY/3.1+portforward.k8s.io), and their SPDY
 * fallback (POST + `Upgrade: SPDY/3.1`), which is refused with a Status saying so.
 *
 * Every upgrade runs the pipeline of any request before its 101: the process's in-flight bound,
 * authentication (and impersonation), authorization (`create` on `pods/exec|attach|portforward`,
 * for the WebSocket GET too, as Kubernetes checks it since 1.30), then the pod's pre-flight
 * (stream-request.ts). The SPDY fallback runs the same pre-flight first, so a refusal kubectl
 * prints after its retry is the real one (a missing pod, a forbidden user), not "no SPDY".
 *
 * Decision: the request holds a fairness seat only for its pre-flight (authorize + pod read), not
 * for the stream's life: a long exec would otherwise pin a seat of its user's level for hours, as
 * a followed log does. Open streams are bounded separately (`sessionsPerMemberMax`).
 *
 * Decision: `ws` refuses the subprotocol `SPDY/3.1+portforward.k8s.io` ('/' is not a token
 * character) with a 400, so for port-forward the header is removed before `handleUpgrade` and
 * the protocol pushed back into the 101 in the server's `'headers'` event (K8S-STREAMING.md §4).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Clock, Logger } from '../../../../bus/index.js';
import { findResource, type ResourceInfo } from '../../registry/resources.js';
import { ApiError, apiErrors } from '../../status.js';
import type { UserInfo } from '../../types.js';
import type { Authorizer } from '../admission.js';
import type { ObjectStorage } from '../objects-port.js';
import { runChannelSession } from './channel-session.js';
import { watchClientLiveness } from './client-liveness.js';
import { streamingLimits } from './limits.js';
import type { NodeStreams } from './node-streams.js';
import { runPortForwardSession } from './port-forward-session.js';
import { parseExecOptions, parseStreamPath, planStream, spdyRefusal, type ExecOptions, type StreamPath } from './stream-request.js';

export const execSubprotocol = 'v5.channel.k8s.io';
export const portForwardSubprotocol = 'SPDY/3.1+portforward.k8s.io';

const podsInfo = findResource('', 'v1', 'pods') as ResourceInfo;

export interface StreamingFrontOptions {
  readonly objects: ObjectStorage;
  readonly authorizer: Authorizer;
  readonly logger: Logger;
  /** Timers of the client liveness checks. */
  readonly clock: Clock;
  /** Authentication and impersonation as for any request; throws ApiError 401/403. */
  readonly authenticate: (req: IncomingMessage) => Promise<UserInfo>;
  /** A fairness seat for the pre-flight (its release), or a thrown 429. */
  readonly seat: (user: UserInfo, namespace: string) => Promise<() => void>;
  /** The process's coarse in-flight bound: its release, or null when full (429). */
  readonly admit: () => (() => void) | null;
  readonly retryAfterSeconds: number;
  /** The member's way to the agents; absent on a bare API server (503). */
  readonly nodeStreams: NodeStreams | null;
  /** Told the answer each upgrade got (101, or the refusal's status): the Prometheus metrics. */
  readonly onOutcome?: (req: IncomingMessage, code: number) => void;
}

export interface StreamingFront {
  /** For `server.on('upgrade', …)`. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Sessions open now. */
  sessionCount(): number;
  /** Closes every session (the server is stopping). */
  close(): void;
}

interface Accepted {
  readonly path: StreamPath;
  readonly pod: Pod;
  readonly node: string;
  readonly exec: (ExecOptions & { readonly container: string }) | null;
}

export function createStreamingFront(options: StreamingFrontOptions): StreamingFront {
  const portForwardRequests = new WeakSet<IncomingMessage>();
  const wss = new WebSocketServer({
    noServer: true, maxPayload: streamingLimits.webSocketMessageBytesMax, perMessageDeflate: false, clientTracking: true,
    handleProtocols: (protocols) => (protocols.has(execSubprotocol) ? execSubprotocol : false),
  });
  wss.on('headers', (headers, req) => {
    if (portForwardRequests.has(req)) headers.push(`Sec-WebSocket-Protocol: ${portForwardSubprotocol}`);
  });
  let sessions = 0;

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const release = options.admit();
    if (release === null) throw apiErrors.tooManyRequests(options.retryAfterSeconds);
    let accepted: Accepted;
    try {
      accepted = await preflight(req);
    } finally {
      release();
    }
    const { path } = accepted;
    const offered = String(req.headers['sec-websocket-protocol'] ?? '');
    const protocols = offered.split(',').map((p) => p.trim()).filter((p) => p !== '');
    const websocket = req.method === 'GET' && String(req.headers.upgrade ?? '').toLowerCase() === 'websocket';
    const wanted = path.verb === 'portforward' ? portForwardSubprotocol : execSubprotocol;
    if (!websocket || !protocols.includes(wanted)) throw spdyRefusal(path.verb, websocket ? offered : String(req.headers.upgrade ?? ''));
    const nodeStreams = options.nodeStreams;
    if (nodeStreams === null) throw apiErrors.unavailable(`pods/${path.verb} is not available: this API server has no connection to node agents`);
    if (sessions >= streamingLimits.sessionsPerMemberMax) {
      throw apiErrors.tooManyRequests(options.retryAfterSeconds, `this API server serves ${streamingLimits.sessionsPerMemberMax} exec, attach and port-forward sessions already`);
    }
    // The client hung up during the pre-flight: nothing to answer, no slot to take (its 'close' has already passed).
    if (socket.destroyed) return;
    if (path.verb === 'portforward') {
      delete req.headers['sec-websocket-protocol'];
      portForwardRequests.add(req);
    }
    sessions += 1;
    let counted = true;
    const onEnd = (): void => {
      if (!counted) return;
      counted = false;
      sessions -= 1;
    };
    // ws answers a malformed handshake itself (400) without calling back: the slot is then given back on the socket's close.
    let handed = false;
    socket.once('close', () => {
      if (!handed) onEnd();
    });
    wss.handleUpgrade(req, socket, head, (ws) => {
      handed = true;
      options.onOutcome?.(req, 101);
      start(ws, accepted, nodeStreams, onEnd);
    });
  }

  async function preflight(req: IncomingMessage): Promise<Accepted> {
    const url = new URL(req.url ?? '/', 'https://kubus.invalid');
    const user = await options.authenticate(req);
    const path = parseStreamPath(url.pathname);
    if (path === null) throw apiErrors.badRequest(`${url.pathname} does not accept an upgrade (only pods/exec, pods/attach and pods/portforward do)`);
    const releaseSeat = await options.seat(user, path.namespace);
    try {
      await options.authorizer.authorize({ user, verb: 'create', info: podsInfo, namespace: path.namespace, name: path.name, subresource: path.verb });
      const execOptions = path.verb === 'portforward' ? null : parseExecOptions(url.searchParams, path.verb);
      const pod = (await options.objects.get(podsInfo, path.namespace, path.name)) as unknown as Pod;
      const target = planStream(pod, path.verb, execOptions?.container ?? null);
      return { path, pod, node: target.node, exec: execOptions === null ? null : { ...execOptions, container: target.container ?? '' } };
    } finally {
      releaseSeat();
    }
  }

  function start(ws: WebSocket, accepted: Accepted, nodeStreams: NodeStreams, onEnd: () => void): void {
    const { path, pod, node, exec } = accepted;
    const uid = pod.metadata?.uid ?? '';
    const logger = options.logger.child({ verb: path.verb, namespace: path.namespace, pod: path.name, node });
    watchClientLiveness(ws, { clock: options.clock, silenceMaxMs: streamingLimits.clientSilenceMaxMs, checkEveryMs: streamingLimits.livenessCheckIntervalMs });
    if (exec === null) {
      runPortForwardSession(ws, {
        open: (port) => nodeStreams.open(node, { v: 1, op: 'portforward', namespace: path.namespace, name: path.name, uid, port }),
        pod: { namespace: path.namespace, name: path.name, uid }, logger, onEnd,
      });
      return;
    }
    runChannelSession(ws, {
      open: () => nodeStreams.open(node, {
        v: 1, op: path.verb === 'attach' ? 'attach' : 'exec', namespace: path.namespace, name: path.name, uid, container: exec.container,
        command: exec.command, stdin: exec.stdin, stdout: exec.stdout, stderr: exec.stderr, tty: exec.tty,
      }),
      tty: exec.tty, node, logger, onEnd,
    });
  }

  return {
    handleUpgrade(req, socket, head) {
      // Errors on the raw socket while the pre-flight runs (the client hung up) are not the server's.
      const ignore = (): void => undefined;
      socket.on('error', ignore);
      upgrade(req, socket, head).catch((error: unknown) => {
        const apiError = error instanceof ApiError ? error : apiErrors.internal('internal error');
        if (!(error instanceof ApiError)) options.logger.error('upgrade failed', { url: req.url, error: String(error) });
        else if (apiError.httpStatus >= 500) options.logger.warn('upgrade refused', { url: req.url, status: apiError.httpStatus, message: apiError.message });
        options.onOutcome?.(req, apiError.httpStatus);
        refuse(socket, apiError);
      });
    },
    sessionCount: () => sessions,
    close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      options.nodeStreams?.close();
    },
  };
}

const reasonPhrases: Readonly<Record<number, string>> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** A Status answer on the raw socket (no 101): what kubectl decodes and prints. */
export function refuse(socket: Duplex, error: ApiError): void {
  if (socket.destroyed) return;
  const body = Buffer.from(JSON.stringify(error.toStatus()));
  const retry = error.details?.retryAfterSeconds;
  const head = [
    `HTTP/1.1 ${error.httpStatus} ${reasonPhrases[error.httpStatus] ?? 'Error'}`,
    'Content-Type: application/json', `Content-Length: ${body.length}`, 'Cache-Control: no-cache, private', 'Connection: close',
    ...(retry !== undefined ? [`Retry-After: ${retry}`] : []),
  ];
  socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), body]));
}
