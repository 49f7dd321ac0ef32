/**
 * Watch streams (K8S-API.md §2.8): 200, chunked, one JSON event per line, flushed per event.
 * A store-side ERROR (e.g. 410 Expired) is sent as an ERROR event carrying the Status and the
 * stream is closed, so informers relist. `timeoutSeconds` (capped by `watchSecondsMax`) ends
 * the stream cleanly; kubectl `get -w` exits 0 then and informers re-watch.
 *
 * Table watches (kubectl `get -w` human output) send a one-row Table per event; only the first
 * carries columnDefinitions, as the real server does.
 */
import { toTable } from '../table.js';
import { apiErrors, type ApiError } from '../status.js';
import type { KubeObject } from '../types.js';
import type { RequestContext } from './context.js';
import { queryFlag, queryInteger, queryString, wantsTable } from './io.js';
import type { WatchEventType, WatchRequest } from './objects-port.js';
import { gate, includeObject } from './resource-handlers.js';

function watchRequest(query: URLSearchParams): WatchRequest {
  const request: WatchRequest = {};
  const labelSelector = queryString(query, 'labelSelector');
  const fieldSelector = queryString(query, 'fieldSelector');
  const resourceVersion = query.get('resourceVersion');
  if (labelSelector !== undefined) request.labelSelector = labelSelector;
  if (fieldSelector !== undefined) request.fieldSelector = fieldSelector;
  if (resourceVersion !== null && resourceVersion !== '') request.resourceVersion = resourceVersion;
  if (queryFlag(query, 'allowWatchBookmarks')) request.allowWatchBookmarks = true;
  if (queryFlag(query, 'sendInitialEvents')) request.sendInitialEvents = true;
  return request;
}

/**
 * Serves one watch until the client leaves, the timeout passes or the store ends it. The watch
 * slot (`watchesMax`) is taken only here, once the caller is authenticated and authorized and the
 * query parsed, and released when the stream ends: a refused watch never holds one.
 */
export async function handleWatch(ctx: RequestContext): Promise<void> {
  const { info, namespace, name } = ctx.route;
  await gate(ctx, 'watch');
  const request = watchRequest(ctx.query);
  // `GET .../pods/web-1?watch=true` (legacy form) watches one object.
  if (name !== null) request.fieldSelector = [request.fieldSelector, `metadata.name=${name}`].filter((s) => s !== undefined).join(',');
  const limits = ctx.server.limits;
  const timeoutSeconds = Math.min(queryInteger(ctx.query, 'timeoutSeconds') ?? limits.watchSecondsMax, limits.watchSecondsMax);
  const table = wantsTable(ctx.req);
  const release = ctx.server.watchSlots.tryAcquire();
  if (release === null) throw apiErrors.tooManyRequests(limits.retryAfterSeconds, `too many watches open on this member (${limits.watchesMax}); retry later`);
  const { res } = ctx;
  let closed = false;
  let headerSent = false;
  let stop: () => void = () => {};
  let timer: ReturnType<typeof ctx.server.clock.setTimeout> | null = null;

  const finish = (): void => {
    if (closed) return;
    closed = true;
    if (timer !== null) ctx.server.clock.clearTimeout(timer);
    stop();
    release();
    if (!res.writableEnded) res.end();
  };
  const write = (type: WatchEventType, object: unknown): void => {
    if (closed) return;
    const payload = table && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') ? tableRow(ctx, object as KubeObject, !headerSent) : object;
    if (table && payload !== object) headerSent = true;
    res.write(`${JSON.stringify({ type, object: payload })}\n`);
    // A client that stops reading must not make us buffer without bound: drop it; it re-watches.
    if (res.writableLength > limits.watchBufferBytesMax) {
      ctx.server.logger.warn('dropping a slow watch client', { resource: info.resource, bufferedBytes: res.writableLength });
      finish();
      res.destroy();
    }
  };

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  ctx.req.on('close', finish);
  res.on('close', finish);
  // A client gone before these listeners were attached would otherwise hold its slot until the timeout.
  if (ctx.req.socket.destroyed) finish();
  timer = ctx.server.clock.setTimeout(finish, timeoutSeconds * 1000);
  try {
    const handle = await ctx.server.objects.watch(info, namespace, request, {
      event: (e) => write(e.type, e.object),
      close: (error?: ApiError) => {
        if (error !== undefined) write('ERROR', error.toStatus());
        finish();
      },
    });
    if (closed) handle.stop();
    else stop = () => handle.stop();
  } catch (error) {
    // The stream is already 200: a failure to start is reported the way Kubernetes does, as an ERROR event.
    const status = (error as { toStatus?: () => unknown }).toStatus?.() ?? {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: String((error as Error).message), reason: 'InternalError', code: 500,
    };
    write('ERROR', status);
    finish();
  }
}

function tableRow(ctx: RequestContext, object: KubeObject, withColumns: boolean): unknown {
  return toTable(ctx.route.info, [object], {
    resourceVersion: object.metadata?.resourceVersion ?? '', includeObject: includeObject(ctx.query), now: ctx.server.wallClock(),
    omitColumnDefinitions: !withColumns,
  });
}
