/**
 * Subresources (K8S-API.md §6): `status` (the object; writes touch only `.status`, handled by the
 * ordinary update/patch with `subresource: 'status'`), `scale` (an autoscaling/v1 Scale view of
 * `spec.replicas`), `binding` (the scheduler sets `spec.nodeName`), `eviction` (delete the pod
 * unless its PodDisruptionBudget forbids it), `log` (from the pod's node agent, pod-logs.ts); `exec`,
 * `attach` and `portforward` are upgrades (http/streaming/), refused here when not upgraded.
 */
import { applyPatch } from '../patch.js';
import { formatLabelSelector } from '../registry/selectors.js';
import { ApiError, apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';
import type { RequestContext } from './context.js';
import { parseObject, readBody, requestMediaType, sendJson, successStatus } from './io.js';
import { admitFor, gate, gracePeriodOption, isDryRun, requireName, rfc3339 } from './resource-handlers.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { findResource, type ResourceInfo } from '../registry/resources.js';
import { planEviction, spendDisruption } from './eviction-budget.js';
import { servePodLogs } from './pod-logs.js';

const budgetsInfo = findResource('policy', 'v1', 'poddisruptionbudgets') as ResourceInfo;
/** Budgets read per eviction: a namespace holds a few; one bounded page (Kubernetes lists them all from its cache). */
const evictionBudgetsMax = 1_000;

type Json = Record<string, unknown>;
const asRecord = (value: unknown): Json => (typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Json : {});

export function toScale(parent: KubeObject): KubeObject {
  const spec = asRecord(parent['spec']);
  const status = asRecord(parent['status']);
  const m = parent.metadata;
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: {
      ...(m.name !== undefined ? { name: m.name } : {}), ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
      ...(m.uid !== undefined ? { uid: m.uid } : {}), ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      ...(m.creationTimestamp !== undefined ? { creationTimestamp: m.creationTimestamp } : {}),
    },
    spec: { replicas: typeof spec['replicas'] === 'number' ? spec['replicas'] : 0 },
    status: {
      replicas: typeof status['replicas'] === 'number' ? status['replicas'] : 0,
      selector: formatLabelSelector(asRecord(spec['selector']) as Parameters<typeof formatLabelSelector>[0]),
    },
  };
}

function replicasOf(scale: KubeObject): number {
  const replicas = asRecord(scale['spec'])['replicas'];
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw apiErrors.invalid('Scale', 'autoscaling', scale.metadata.name ?? '', [
      { reason: typeof replicas === 'number' ? 'FieldValueInvalid' : 'FieldValueTypeInvalid', field: 'spec.replicas', message: 'must be a non-negative integer' },
    ]);
  }
  return replicas;
}

function withReplicas(parent: KubeObject, replicas: number): KubeObject {
  return { ...parent, spec: { ...asRecord(parent['spec']), replicas } };
}

export async function handleScale(ctx: RequestContext, method: string): Promise<void> {
  const { info, namespace } = ctx.route;
  const name = requireName(ctx.route.name);
  if (method === 'GET') {
    await gate(ctx, 'get');
    sendJson(ctx.res, 200, toScale(await ctx.server.objects.get(info, namespace, name)));
    return;
  }
  if (method !== 'PUT' && method !== 'PATCH') throw apiErrors.methodNotAllowed(`${method} is not supported on ${info.resource}/scale`);
  await gate(ctx, method === 'PUT' ? 'update' : 'patch');
  const contentType = requestMediaType(ctx.req);
  const body = await readBody(ctx.req, ctx.server.limits.requestBodyBytesMax);
  const wanted = method === 'PUT' ? parseObject(contentType, body) : null;
  // The Scale is admitted as Kubernetes does (UPDATE of `<resource>/scale`, old and new Scale), so
  // webhooks and NodeRestriction see scale writes too, and a mutating webhook may change the replicas.
  const mutate = async (current: KubeObject): Promise<KubeObject> => {
    const old = toScale(current);
    let requested: KubeObject;
    if (wanted !== null) {
      const expected = wanted.metadata.resourceVersion;
      if (expected !== undefined && expected !== '' && expected !== current.metadata.resourceVersion) {
        throw apiErrors.conflict(info.resource, info.group, name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      requested = { ...old, spec: { ...asRecord(old['spec']), replicas: replicasOf(wanted) } };
    } else {
      requested = applyPatch(contentType, old, body, info, { now: rfc3339(ctx.server.wallClock()) });
      replicasOf(requested);
    }
    const admitted = (await admitFor(ctx, { operation: 'UPDATE', object: requested, old })) ?? requested;
    return withReplicas(current, replicasOf(admitted));
  };
  const updated = await ctx.server.objects.guaranteedUpdate(info, namespace, name, mutate, { subresource: null, dryRun: isDryRun(ctx.query) });
  sendJson(ctx.res, 200, toScale(updated));
}

/** The node a Binding names; 422 when it names none. */
function bindingTarget(binding: KubeObject, name: string): string {
  const node = asRecord(binding['target'])['name'];
  if (typeof node !== 'string' || node === '') {
    throw apiErrors.invalid('Binding', '', name, [{ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
  }
  return node;
}

/**
 * The body of a subresource POST as the object admission reviews: apiVersion and kind filled when
 * the client left them out, and the pod's name and namespace (the URL's, as Kubernetes uses).
 */
async function readSubresourceObject(ctx: RequestContext, type: { apiVersion: string; kind: string }): Promise<KubeObject> {
  const body = parseObject(requestMediaType(ctx.req), await readBody(ctx.req, ctx.server.limits.requestBodyBytesMax));
  const metadata = { ...asRecord(body.metadata), name: requireName(ctx.route.name), ...(ctx.route.namespace !== null ? { namespace: ctx.route.namespace } : {}) };
  return { ...body, apiVersion: body.apiVersion ?? type.apiVersion, kind: body.kind ?? type.kind, metadata };
}

/**
 * POST pods/<p>/binding: what the scheduler does. Admitted as a CREATE of `pods/binding` with the
 * Binding as the object (a mutating webhook may change its target). 409 if the pod is already bound elsewhere.
 */
export async function handleBinding(ctx: RequestContext): Promise<void> {
  const { info, namespace } = ctx.route;
  const name = requireName(ctx.route.name);
  await gate(ctx, 'create');
  const binding = await readSubresourceObject(ctx, { apiVersion: 'v1', kind: 'Binding' });
  bindingTarget(binding, name); // 422 before any webhook is called; checked again after mutation.
  const admitted = await admitFor(ctx, { operation: 'CREATE', object: binding, old: null });
  const node = bindingTarget(admitted ?? binding, name);
  await ctx.server.objects.guaranteedUpdate(info, namespace, name, (current) => {
    const spec = asRecord(current['spec']);
    const bound = spec['nodeName'];
    if (typeof bound === 'string' && bound !== '') {
      throw apiErrors.conflict(info.resource, info.group, name, `pod ${name} is already assigned to node "${bound}"`);
    }
    return { ...current, spec: { ...spec, nodeName: node } };
  }, { subresource: null, dryRun: isDryRun(ctx.query) });
  sendJson(ctx.res, 201, successStatus(201));
}

/**
 * POST pods/<p>/eviction: deletes the pod unless that would break its PodDisruptionBudget
 * (eviction-budget.ts decides). Admitted as a CREATE of `pods/eviction` with the Eviction as the
 * object and the pod as old (NodeRestriction reads the pod's node from it). The pod's deletion is
 * then not admitted again: Kubernetes' EvictionREST deletes with rest.ValidateAllObjectFunc, so a
 * webhook on pods DELETE does not see evictions.
 *
 * Spending a disruption is a compare-and-swap on the budget's status (guaranteedUpdate re-reads
 * and re-decides on a lost race), so two evictions racing for the last disruption cannot both
 * win; the pod is deleted only after its disruption is recorded, as Kubernetes orders it.
 */
export async function handleEviction(ctx: RequestContext): Promise<void> {
  const { info, namespace } = ctx.route;
  const name = requireName(ctx.route.name);
  await gate(ctx, 'create');
  const eviction = await readSubresourceObject(ctx, { apiVersion: 'policy/v1', kind: 'Eviction' });
  const options = asRecord(eviction['deleteOptions']);
  const dryRun = isDryRun(ctx.query) || (Array.isArray(options['dryRun']) && options['dryRun'].includes('All'));
  const pod = await ctx.server.objects.get(info, namespace, name);
  const admitted = await admitFor(ctx, { operation: 'CREATE', object: eviction, old: pod, dryRun });
  const preconditions = asRecord(asRecord((admitted ?? eviction)['deleteOptions'])['preconditions']);
  const page = namespace === null ? { items: [] } : await ctx.server.objects.list(budgetsInfo, namespace, { limit: evictionBudgetsMax });
  // Deciding on a partial list could miss the pod's budget: refuse rather than evict unprotected.
  if ('continue' in page && page.continue !== undefined && page.continue !== '') {
    throw apiErrors.internal(`namespace ${namespace ?? ''} holds more than ${evictionBudgetsMax} PodDisruptionBudgets; evictions there are refused`);
  }
  const plan = planEviction(pod as unknown as Pod, page.items as unknown as PodDisruptionBudget[]);
  if (plan.kind === 'spend') {
    const now = rfc3339(ctx.server.wallClock());
    await ctx.server.objects.guaranteedUpdate(budgetsInfo, namespace, plan.budget.metadata?.name ?? '', (current) => {
      // Decided again on the budget as stored: the listed copy may be stale.
      const spent = spendDisruption(current as unknown as PodDisruptionBudget, name, now);
      return { ...current, status: spent.status } as unknown as KubeObject;
    }, { subresource: 'status', dryRun });
  }
  const podResourceVersion = plan.kind === 'delete' ? plan.podResourceVersion : undefined;
  const resourceVersion = typeof preconditions['resourceVersion'] === 'string' ? preconditions['resourceVersion'] : podResourceVersion;
  const grace = gracePeriodOption(options['gracePeriodSeconds'], new URLSearchParams());
  // Evicted pods terminate gracefully like deleted ones (the eviction's deleteOptions may set the grace).
  await ctx.server.objects.delete(info, namespace, name, {
    ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}),
    preconditions: {
      ...(typeof preconditions['uid'] === 'string' ? { uid: preconditions['uid'] } : {}),
      ...(resourceVersion !== undefined ? { resourceVersion } : {}),
    },
    dryRun,
  });
  sendJson(ctx.res, 201, successStatus(201));
}

/** GET pods/<p>/log: 404 for a missing pod, else the container's log from the pod's node agent (pod-logs.ts). */
export async function handleLog(ctx: RequestContext): Promise<void> {
  const { info, namespace } = ctx.route;
  const name = requireName(ctx.route.name);
  await gate(ctx, 'get');
  await servePodLogs(ctx, await ctx.server.objects.get(info, namespace, name));
}

/**
 * GET or POST pods/<p>/exec|attach|portforward without an Upgrade header: authorized like the
 * upgrade (`create`), then Kubernetes' 400, since these verbs exist only as streams (http/streaming/).
 */
export async function handleStreamWithoutUpgrade(ctx: RequestContext): Promise<void> {
  requireName(ctx.route.name);
  await gate(ctx, 'create');
  throw apiErrors.badRequest('Upgrade request required');
}
