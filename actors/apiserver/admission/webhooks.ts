/**
 * The dynamic admission stages: mutating webhooks one after another (each sees the previous one's
 * JSON patch applied), validating webhooks in parallel (Kubernetes does the same), both with
 * failurePolicy Fail (default) or Ignore, dry-run refusal for webhooks with side effects, and
 * warnings forwarded to the client. Not done: reinvocationPolicy (mutating webhooks run once).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../../bus/index.js';
import { runsBuiltInStages, type AdmissionRequest } from '../http/admission.js';
import { applyPatch, patchContentTypes } from '../patch.js';
import { apiVersionOf } from '../registry/resources.js';
import { ApiError, apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';
import type { CallSlots } from './call-slots.js';
import { WebhookCallError } from './errors.js';
import { admissionLimits } from './limits.js';
import type { ConfiguredWebhook } from './webhook-cache.js';
import { callWebhook, type AdmissionResponse } from './webhook-client.js';
import { supportsDryRun, webhookMatches, type WebhookSpec } from './webhook-matching.js';

export interface WebhookDeps {
  readonly slots: CallSlots;
  readonly logger: Logger;
  /** Labels of the request's namespace (null for cluster-scoped requests or a namespace not found). */
  readonly namespaceLabels: (request: AdmissionRequest) => Promise<Readonly<Record<string, string>> | null>;
  /** The HTTPS call; injected so unit tests can answer without a server. */
  readonly call?: typeof callWebhook;
}

/** The kind under review: the resource's, or for a subresource such as eviction or binding the object's own. */
function reviewedKind(request: AdmissionRequest, object: KubeObject | null): { group: string; version: string; kind: string } {
  const { info } = request;
  const own = object ?? request.old;
  if (runsBuiltInStages(request.subresource) || own === null || typeof own.apiVersion !== 'string' || typeof own.kind !== 'string') {
    return { group: info.group, version: info.version, kind: info.kind };
  }
  const slash = own.apiVersion.indexOf('/');
  return { group: slash < 0 ? '' : own.apiVersion.slice(0, slash), version: own.apiVersion.slice(slash + 1), kind: own.kind };
}

export function admissionReview(uid: string, request: AdmissionRequest, object: KubeObject | null): unknown {
  const { info } = request;
  const kind = reviewedKind(request, object);
  const resource = { group: info.group, version: info.version, resource: info.resource };
  return {
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: {
      uid, kind, resource, requestKind: kind, requestResource: resource,
      ...(request.subresource !== null ? { subResource: request.subresource, requestSubResource: request.subresource } : {}),
      name: request.name ?? object?.metadata.name ?? '', ...(request.namespace !== null ? { namespace: request.namespace } : {}),
      operation: request.operation,
      userInfo: { username: request.user.name, uid: request.user.uid, groups: request.user.groups },
      object, oldObject: request.old, dryRun: request.dryRun,
      options: { apiVersion: 'meta.k8s.io/v1', kind: `${request.operation === 'CREATE' ? 'Create' : request.operation === 'DELETE' ? 'Delete' : 'Update'}Options` },
    },
  };
}

function forwardWarnings(request: AdmissionRequest, response: AdmissionResponse): void {
  for (const warning of (response.warnings ?? []).slice(0, admissionLimits.warningsMax)) {
    request.warn?.(warning.slice(0, admissionLimits.warningCharsMax));
  }
}

function denial(webhook: WebhookSpec, response: AdmissionResponse): ApiError {
  const code = typeof response.status?.code === 'number' && response.status.code >= 400 && response.status.code < 600 ? response.status.code : 403;
  const message = response.status?.message ?? '';
  const text = `admission webhook "${webhook.name}" denied the request${message === '' ? ' without explanation' : `: ${message}`}`;
  return new ApiError(code, code === 403 ? 'Forbidden' : code === 422 ? 'Invalid' : code === 400 ? 'BadRequest' : 'InternalError', text);
}

/** Calls one webhook if it matches; answers its response, or null when skipped (no match, or Ignore on failure). */
async function consult(deps: WebhookDeps, entry: ConfiguredWebhook, request: AdmissionRequest, object: KubeObject | null): Promise<AdmissionResponse | null> {
  const { webhook } = entry;
  const current: AdmissionRequest = { ...request, object };
  if (!webhookMatches(webhook, current, await deps.namespaceLabels(current))) return null;
  if (request.dryRun && !supportsDryRun(webhook)) {
    throw apiErrors.badRequest(`admission webhook "${webhook.name}" does not support dry run`);
  }
  const uid = randomUUID();
  try {
    const response = await deps.slots.run(() => (deps.call ?? callWebhook)(webhook, uid, admissionReview(uid, request, object)));
    forwardWarnings(request, response);
    return response;
  } catch (error) {
    return onFailure(deps, webhook, error);
  }
}

/** failurePolicy: Ignore skips the webhook (null); Fail (the default) refuses the request with 500 naming it. */
function onFailure(deps: WebhookDeps, webhook: WebhookSpec, error: unknown): null {
  if (!(error instanceof WebhookCallError)) throw error;
  if (webhook.failurePolicy === 'Ignore') {
    deps.logger.warn('webhook failed; ignored by its failurePolicy', { webhook: webhook.name, error: error.message, cause: String((error.cause as Error | undefined)?.message ?? '') });
    return null;
  }
  // The requester sees the webhook's name and the kind of failure; the raw cause (addresses) stays in this member's log.
  deps.logger.warn('webhook failed; request refused by its failurePolicy', { webhook: webhook.name, error: error.message, cause: String((error.cause as Error | undefined)?.message ?? '') });
  throw apiErrors.internal(`Internal error occurred: ${error.message}`);
}

function applyResponsePatch(webhook: WebhookSpec, request: AdmissionRequest, object: KubeObject, response: AdmissionResponse): KubeObject {
  if (response.patch === undefined || response.patch === '') return object;
  if (response.patchType !== 'JSONPatch') throw new WebhookCallError(webhook.name, `unsupported patchType ${JSON.stringify(response.patchType)}`);
  try {
    const patched = applyPatch(patchContentTypes.json, object, Buffer.from(response.patch, 'base64').toString('utf8'), request.info, {});
    // A webhook may not change what kind of object it admits (a Pod, or an Eviction for pods/eviction).
    patched.apiVersion = object.apiVersion ?? apiVersionOf(request.info);
    patched.kind = object.kind ?? request.info.kind;
    return patched;
  } catch (error) {
    throw new WebhookCallError(webhook.name, `the JSON patch could not be applied: ${(error as Error).message}`, { cause: error });
  }
}

/** Runs the mutating webhooks in order; returns the object with every patch applied. */
export async function runMutatingWebhooks(deps: WebhookDeps, webhooks: readonly ConfiguredWebhook[], request: AdmissionRequest): Promise<KubeObject | null> {
  let object = request.object;
  for (const entry of webhooks) {
    const response = await consult(deps, entry, request, object);
    if (response === null) continue;
    if (!response.allowed) throw denial(entry.webhook, response);
    if (object === null) continue;
    try {
      object = applyResponsePatch(entry.webhook, request, object, response);
    } catch (error) {
      onFailure(deps, entry.webhook, error);
    }
  }
  return object;
}

/** Runs the validating webhooks in parallel; the first denial (in configuration order) wins. */
export async function runValidatingWebhooks(deps: WebhookDeps, webhooks: readonly ConfiguredWebhook[], request: AdmissionRequest): Promise<void> {
  const outcomes = await Promise.allSettled(webhooks.map((entry) => consult(deps, entry, request, request.object)));
  for (const [index, outcome] of outcomes.entries()) {
    if (outcome.status === 'rejected') throw outcome.reason;
    const response = outcome.value;
    const entry = webhooks[index];
    if (response !== null && !response.allowed && entry !== undefined) throw denial(entry.webhook, response);
  }
}
