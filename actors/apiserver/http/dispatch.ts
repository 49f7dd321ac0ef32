/** Method × (collection | object | subresource) → handler, with 405 for combinations Kubernetes does not serve. */
import { apiErrors } from '../status.js';
import type { RequestContext } from './context.js';
import { queryFlag } from './io.js';
import {
  handleCreate, handleDelete, handleDeleteCollection, handleGet, handleList, handlePatch, handleUpdate,
} from './resource-handlers.js';
import { handleBinding, handleEviction, handleLog, handleScale, handleStreamWithoutUpgrade } from './subresources.js';
import { handleNodeCredentials } from './node-credentials.js';
import { handleFinalize } from './namespace-finalize.js';
import { handleWatch } from './watch.js';

/** True for requests that stream (they are bounded by `watchesMax`, not `inFlightMax`). */
export function isWatch(method: string, query: URLSearchParams): boolean {
  return method === 'GET' && queryFlag(query, 'watch');
}

export async function dispatchResource(ctx: RequestContext): Promise<void> {
  const method = ctx.req.method ?? 'GET';
  const { name, subresource, info, namespace } = ctx.route;
  if (info.namespaced && namespace === null && name !== null) {
    throw apiErrors.notFound(info.resource, info.group, name);
  }
  if (isWatch(method, ctx.query)) return handleWatch(ctx);
  if (subresource !== null) return dispatchSubresource(ctx, method, subresource);
  if (name === null) {
    switch (method) {
      case 'GET': return handleList(ctx);
      case 'POST': return handleCreate(ctx);
      case 'DELETE': return handleDeleteCollection(ctx);
      default: throw notAllowed(method, info.resource);
    }
  }
  switch (method) {
    case 'GET': return handleGet(ctx);
    case 'PUT': return handleUpdate(ctx);
    case 'PATCH': return handlePatch(ctx);
    case 'DELETE': return handleDelete(ctx);
    default: throw notAllowed(method, info.resource);
  }
}

function dispatchSubresource(ctx: RequestContext, method: string, subresource: string): Promise<void> {
  const path = `${ctx.route.info.resource}/${subresource}`;
  switch (subresource) {
    case 'status':
      if (method === 'GET') return handleGet(ctx);
      if (method === 'PUT') return handleUpdate(ctx);
      if (method === 'PATCH') return handlePatch(ctx);
      throw notAllowed(method, path);
    case 'scale': return handleScale(ctx, method);
    case 'binding':
      if (method === 'POST') return handleBinding(ctx);
      throw notAllowed(method, path);
    case 'eviction':
      if (method === 'POST') return handleEviction(ctx);
      throw notAllowed(method, path);
    case 'log':
      if (method === 'GET') return handleLog(ctx);
      throw notAllowed(method, path);
    case 'exec':
    case 'attach':
    case 'portforward':
      // Upgraded requests never get here (api-server.ts hands them to http/streaming/).
      if (method === 'GET' || method === 'POST') return handleStreamWithoutUpgrade(ctx);
      throw notAllowed(method, path);
    case 'credentials':
      if (method === 'POST') return handleNodeCredentials(ctx);
      throw notAllowed(method, path);
    case 'finalize':
      if (method === 'PUT') return handleFinalize(ctx);
      throw notAllowed(method, path);
    default:
      throw notAllowed(method, path);
  }
}

function notAllowed(method: string, what: string) {
  return apiErrors.methodNotAllowed(`the server does not allow this method on the requested resource: ${method} ${what}`);
}
