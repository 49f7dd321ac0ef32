/**
 * Which webhooks a request goes to (admissionregistration/v1): `rules` (operations, apiGroups,
 * apiVersions, resources with subresources, scope), `namespaceSelector` and `objectSelector`.
 * matchPolicy is simplified: every policy matches the request's own group/version exactly (the
 * API serves no kind under two groups, so Equivalent adds nothing but the autoscaling v1/v2 pair).
 */
import type { AdmissionRequest } from '../http/admission.js';
import { formatLabelSelector, matchLabels, parseLabelSelector } from '../registry/selectors.js';
import type { KubeObject } from '../types.js';

export interface WebhookRule {
  readonly operations?: readonly string[];
  readonly apiGroups?: readonly string[];
  readonly apiVersions?: readonly string[];
  readonly resources?: readonly string[];
  readonly scope?: string;
}

export interface LabelSelectorSpec {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[];
}

/** One webhook of a Mutating/ValidatingWebhookConfiguration, as stored. */
export interface WebhookSpec {
  readonly name: string;
  readonly clientConfig?: { readonly url?: string; readonly caBundle?: string; readonly service?: { readonly namespace?: string; readonly name?: string; readonly path?: string; readonly port?: number } };
  readonly rules?: readonly WebhookRule[];
  readonly failurePolicy?: string;
  readonly matchPolicy?: string;
  readonly namespaceSelector?: LabelSelectorSpec;
  readonly objectSelector?: LabelSelectorSpec;
  readonly sideEffects?: string;
  readonly timeoutSeconds?: number;
  readonly admissionReviewVersions?: readonly string[];
}

const has = (list: readonly string[] | undefined, value: string): boolean => (list ?? []).some((v) => v === '*' || v === value);

function resourceMatches(patterns: readonly string[] | undefined, resource: string, subresource: string | null): boolean {
  return (patterns ?? []).some((pattern) => {
    const [res, sub] = pattern.split('/', 2) as [string, string | undefined];
    if (res !== '*' && res !== resource) return false;
    if (sub === undefined) return subresource === null;
    return sub === '*' || sub === subresource;
  });
}

export function ruleMatches(rule: WebhookRule, request: Pick<AdmissionRequest, 'operation' | 'info' | 'subresource' | 'namespace'>): boolean {
  if (!has(rule.operations, request.operation)) return false;
  if (!has(rule.apiGroups, request.info.group)) return false;
  if (!has(rule.apiVersions, request.info.version)) return false;
  if (!resourceMatches(rule.resources, request.info.resource, request.subresource)) return false;
  const scope = rule.scope ?? '*';
  if (scope === 'Cluster') return !request.info.namespaced;
  if (scope === 'Namespaced') return request.info.namespaced;
  return true;
}

/** An absent selector matches everything; an empty one too (Kubernetes' semantics). */
export function selectorMatches(selector: LabelSelectorSpec | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (selector === undefined) return true;
  return matchLabels(parseLabelSelector(formatLabelSelector(selector)), labels ?? {});
}

/**
 * Whether `webhook` applies to `request`. `namespaceLabels` are the labels of the request's
 * namespace (null when the resource is cluster-scoped; a Namespace object is matched on its own labels).
 */
export function webhookMatches(webhook: WebhookSpec, request: AdmissionRequest, namespaceLabels: Readonly<Record<string, string>> | null): boolean {
  if (!(webhook.rules ?? []).some((rule) => ruleMatches(rule, request))) return false;
  const isNamespace = request.info.group === '' && request.info.resource === 'namespaces';
  const ownLabels = (request.object ?? request.old)?.metadata.labels;
  if (isNamespace) {
    if (!selectorMatches(webhook.namespaceSelector, ownLabels)) return false;
  } else if (request.info.namespaced && !selectorMatches(webhook.namespaceSelector, namespaceLabels ?? {})) {
    return false;
  }
  const objects = [request.object, request.old].filter((o): o is KubeObject => o !== null);
  return objects.some((o) => selectorMatches(webhook.objectSelector, o.metadata.labels));
}

/** Whether a webhook may be called on a dry-run request (it declares no side effects then). */
export function supportsDryRun(webhook: WebhookSpec): boolean {
  return webhook.sideEffects === 'None' || webhook.sideEffects === 'NoneOnDryRun';
}
