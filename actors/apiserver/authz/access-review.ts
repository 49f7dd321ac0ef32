/**
 * SelfSubjectAccessReview and SelfSubjectRulesReview (authorization.k8s.io/v1): "may I?" and "what
 * may I?" for the caller, answered by the server's own authorizer and never stored, which is what
 * makes `kubectl auth can-i [--list]` truthful.
 */
import type { RequestContext } from '../http/context.js';
import { parseObject, requestMediaType, sendJson } from '../http/io.js';
import type { ResourceInfo } from '../registry/resources.js';
import { apiErrors } from '../status.js';
import { ClusterAuthorizer } from './authorizer.js';
import { nodeNameOf } from './node-authorizer.js';
import type { Attributes } from './rbac-rules.js';
import { decodeReviewSpec, protobufMediaType } from './review-protobuf.js';
import { readBodyBytes } from '../http/io.js';

export const authorizationGroup = 'authorization.k8s.io';

export function isAuthorizationReview(info: ResourceInfo): boolean {
  return info.group === authorizationGroup && (info.resource === 'selfsubjectaccessreviews' || info.resource === 'selfsubjectrulesreviews');
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function record(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : null;
}

export function reviewAttributes(spec: Record<string, unknown>): Attributes {
  const resource = record(spec.resourceAttributes);
  if (resource !== null) {
    const namespace = text(resource.namespace);
    const name = text(resource.name);
    const subresource = text(resource.subresource);
    return {
      resourceRequest: true, verb: text(resource.verb), apiGroup: text(resource.group), resource: text(resource.resource),
      subresource: subresource === '' ? null : subresource, namespace: namespace === '' ? null : namespace, name: name === '' ? null : name,
    };
  }
  const nonResource = record(spec.nonResourceAttributes);
  if (nonResource !== null) return { resourceRequest: false, verb: text(nonResource.verb), path: text(nonResource.path) };
  throw apiErrors.badRequest('spec: exactly one of resourceAttributes or nonResourceAttributes must be set');
}

export async function serveAuthorizationReview(ctx: RequestContext): Promise<void> {
  if (ctx.req.method !== 'POST') throw apiErrors.methodNotAllowed(`only create (POST) is supported on ${ctx.route.info.resource}`);
  const authorizer = ctx.server.authorizer;
  if (!(authorizer instanceof ClusterAuthorizer)) throw apiErrors.methodNotAllowed('access reviews need the RBAC authorizer, which this server does not run');
  // Creating a review is itself authorized (system:basic-user grants it to every authenticated user).
  await authorizer.authorize({ user: ctx.user, verb: 'create', info: ctx.route.info, namespace: null, name: null, subresource: null });
  const spec = await readReviewSpec(ctx);
  const base = { apiVersion: `${authorizationGroup}/v1`, kind: ctx.route.info.kind, metadata: { creationTimestamp: null }, spec };
  if (ctx.route.info.resource === 'selfsubjectaccessreviews') {
    const allowed = authorizer.allows(ctx.user, reviewAttributes(spec));
    sendJson(ctx.res, 201, { ...base, status: { allowed, ...(allowed ? {} : { reason: 'no RBAC policy matched' }) } });
    return;
  }
  const namespace = text(spec.namespace);
  const rules = authorizer.rulesFor(ctx.user, namespace === '' ? null : namespace);
  sendJson(ctx.res, 201, {
    ...base,
    status: {
      resourceRules: rules.filter((r) => r.resources !== undefined).map((r) => ({
        verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], ...(r.resourceNames !== undefined ? { resourceNames: r.resourceNames } : {}),
      })),
      nonResourceRules: rules.filter((r) => r.nonResourceURLs !== undefined).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs ?? [] })),
      // The Node authorizer's graph answers are not rules, so a node's list is incomplete.
      incomplete: nodeNameOf(ctx.user) !== null,
    },
  });
}

/** The spec from a JSON/YAML body, or from the protobuf body kubectl sends. */
async function readReviewSpec(ctx: RequestContext): Promise<Record<string, unknown>> {
  const body = await readBodyBytes(ctx.req, ctx.server.limits.requestBodyBytesMax);
  const mediaType = requestMediaType(ctx.req);
  if (mediaType === protobufMediaType) return decodeReviewSpec(body, ctx.route.info.kind);
  return record(parseObject(mediaType, body.toString('utf8')).spec) ?? {};
}
