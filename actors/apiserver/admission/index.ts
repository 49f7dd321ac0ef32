/** Admission plugins and webhooks: the chain the API server runs before it stores a write. */
export { AdmissionChain, type AdmissionChainOptions } from './chain.js';
export { admissionLimits } from './limits.js';
export { WebhookCallError } from './errors.js';
export { parseQuantity, formatQuantity } from '../../objects/quantity.js';
export { admitNamespaceLifecycle, undeletableNamespaces, type NamespaceLookup } from './namespace-lifecycle.js';
export { applyLimitRanges } from './limit-ranger.js';
export { admitNodeRestriction, isNodeSettableLabel, nodeNameOf } from './node-restriction.js';
export { checkQuotas, countNames, podCompute, usageOf } from './resource-quota.js';
export { ruleMatches, selectorMatches, webhookMatches, supportsDryRun, type WebhookSpec, type WebhookRule } from './webhook-matching.js';
export { callWebhook, webhookTimeoutMs, type AdmissionResponse } from './webhook-client.js';
export { runMutatingWebhooks, runValidatingWebhooks, admissionReview, type WebhookDeps } from './webhooks.js';
export { CallSlots } from './call-slots.js';
export type { ConfiguredWebhook } from './webhook-cache.js';
