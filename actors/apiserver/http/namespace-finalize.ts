/**
 * `PUT /api/v1/namespaces/<name>/finalize`: the namespace controller's way to say it has removed a
 * terminating namespace's content. Only `spec.finalizers` changes (the store's finalize strategy);
 * once a deleting namespace has no finalizers of either kind the write removes it, as Kubernetes'
 * namespace store does (`ShouldDeleteNamespaceDuringUpdate`).
 */
import { apiVersionOf } from '../registry/resources.js';
import { apiErrors } from '../status.js';
import type { RequestContext } from './context.js';
import { parseObject, readBody, requestMediaType } from './io.js';
import { admitFor, gate, isDryRun, reconcileWithUrl, requireName, sendObject } from './resource-handlers.js';

export async function handleFinalize(ctx: RequestContext): Promise<void> {
  const { info } = ctx.route;
  if (info.resource !== 'namespaces') throw apiErrors.notFound(info.resource, info.group, ctx.route.name ?? '');
  await gate(ctx, 'update');
  const name = requireName(ctx.route.name);
  const body = await readBody(ctx.req, ctx.server.limits.requestBodyBytesMax);
  const object = reconcileWithUrl(ctx, parseObject(requestMediaType(ctx.req), body), { apiVersion: apiVersionOf(info), kind: info.kind });
  const finalizers = (object['spec'] as { finalizers?: unknown } | undefined)?.finalizers;
  if (finalizers !== undefined && (!Array.isArray(finalizers) || !finalizers.every((f) => typeof f === 'string' && f !== ''))) {
    throw apiErrors.invalid(info.kind, info.group, name, [{ reason: 'FieldValueInvalid', field: 'spec.finalizers', message: 'must be a list of finalizer names' }]);
  }
  const old = await ctx.server.objects.get(info, null, name);
  // Webhooks see the finalize as Kubernetes sends it (UPDATE on the `finalize` subresource).
  const admitted = (await admitFor(ctx, { operation: 'UPDATE', object, old })) ?? object;
  const updated = await ctx.server.objects.update(info, null, name, admitted, { subresource: 'finalize', dryRun: isDryRun(ctx.query) });
  sendObject(ctx, 200, updated);
}
