/**
 * The authentication API's two endpoints, answered from the request rather than stored:
 * - `POST /apis/authentication.k8s.io/v1/selfsubjectreviews` (`kubectl auth whoami`): the caller's user info;
 * - `POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token` (TokenRequest, `kubectl create token`):
 *   a signed ServiceAccount token.
 * Both are authorized like any create (RBAC's system:basic-user grants selfsubjectreviews to everyone).
 *
 * Decision: kubectl sends these bodies as protobuf. A SelfSubjectReview has no input, and a
 * TokenRequest's only inputs (expiry, audiences) have defaults, so a protobuf body is drained and
 * the defaults apply; a JSON body's `spec.expirationSeconds` and `spec.audiences` are honoured.
 */
import type { RequestContext } from '../http/context.js';
import { readBody, requestMediaType, sendJson } from '../http/io.js';
import { gate } from '../http/resource-handlers.js';
import { apiErrors } from '../status.js';
import { authnLimits } from './limits.js';
import { issueServiceAccountToken, serviceAccountIssuer } from './service-account-tokens.js';

/** Serves the request when it is one of these endpoints; false otherwise (the caller dispatches it). */
export async function serveAuthenticationEndpoint(ctx: RequestContext, serviceAccountKeyPem: string | null): Promise<boolean> {
  const { info, subresource, name } = ctx.route;
  if (info.group === 'authentication.k8s.io' && info.resource === 'selfsubjectreviews') {
    await selfSubjectReview(ctx);
    return true;
  }
  if (info.group === '' && info.resource === 'serviceaccounts' && subresource === 'token' && name !== null) {
    await tokenRequest(ctx, serviceAccountKeyPem);
    return true;
  }
  return false;
}

function requirePost(ctx: RequestContext, what: string): void {
  if (ctx.req.method !== 'POST') throw apiErrors.methodNotAllowed(`${ctx.req.method ?? ''} is not supported on ${what}; only create (POST)`);
}

async function selfSubjectReview(ctx: RequestContext): Promise<void> {
  requirePost(ctx, 'selfsubjectreviews.authentication.k8s.io');
  await gate(ctx, 'create');
  await readBody(ctx.req, ctx.server.limits.requestBodyBytesMax);
  const { user } = ctx;
  sendJson(ctx.res, 201, {
    kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', metadata: { creationTimestamp: ctx.server.wallClock().toISOString() },
    status: { userInfo: { username: user.name, ...(user.uid !== '' ? { uid: user.uid } : {}), groups: [...user.groups] } },
  });
}

async function tokenRequest(ctx: RequestContext, serviceAccountKeyPem: string | null): Promise<void> {
  requirePost(ctx, 'serviceaccounts/token');
  await gate(ctx, 'create');
  if (serviceAccountKeyPem === null) throw apiErrors.unavailable('this API server has no ServiceAccount signing key (pki/sa.key); restart it after `kubus up` created one');
  const body = await readBody(ctx.req, ctx.server.limits.requestBodyBytesMax);
  const spec = requestMediaType(ctx.req) === 'application/json' && body.trim() !== '' ? parseSpec(body) : {};
  const expirationSeconds = Math.min(authnLimits.serviceAccountTokenSecondsMax, spec.expirationSeconds ?? authnLimits.serviceAccountTokenSecondsDefault);
  if (expirationSeconds < authnLimits.serviceAccountTokenSecondsMin) {
    throw apiErrors.badRequest(`spec.expirationSeconds: may not specify a duration less than ${authnLimits.serviceAccountTokenSecondsMin} seconds`);
  }
  const namespace = ctx.route.namespace ?? '';
  const name = ctx.route.name ?? '';
  const account = await ctx.server.objects.get(ctx.route.info, namespace, name);
  const now = ctx.server.wallClock();
  const audiences = spec.audiences ?? [serviceAccountIssuer];
  const issued = issueServiceAccountToken({ privateKeyPem: serviceAccountKeyPem, serviceAccount: account, now, expirationSeconds, audiences });
  sendJson(ctx.res, 201, {
    kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', metadata: { name, namespace, creationTimestamp: now.toISOString() },
    spec: { audiences, expirationSeconds }, status: { token: issued.token, expirationTimestamp: issued.expiresAt.toISOString() },
  });
}

function parseSpec(body: string): { expirationSeconds?: number; audiences?: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw apiErrors.badRequest('the TokenRequest body is not valid JSON');
  }
  const spec = (parsed as { spec?: { expirationSeconds?: unknown; audiences?: unknown } } | null)?.spec ?? {};
  return {
    ...(typeof spec.expirationSeconds === 'number' ? { expirationSeconds: spec.expirationSeconds } : {}),
    ...(Array.isArray(spec.audiences) && spec.audiences.every((a) => typeof a === 'string') ? { audiences: spec.audiences as string[] } : {}),
  };
}
