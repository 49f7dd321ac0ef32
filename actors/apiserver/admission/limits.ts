/** Bounds of the admission chain, each with the reason for its number. */
export const admissionLimits = {
  /** Kubernetes' default webhook timeout (admissionregistration/v1 `timeoutSeconds`). */
  webhookTimeoutSecondsDefault: 10,
  /** Kubernetes refuses configurations asking for more: a request may not wait on one webhook longer. */
  webhookTimeoutSecondsMax: 30,
  /** Webhook calls in flight on one member; a slow webhook must not hold every request's socket. */
  webhookCallsInFlightMax: 64,
  /** Callers waiting for a webhook slot; beyond it the request gets 429 instead of queueing without bound. */
  webhookCallsQueuedMax: 1_000,
  /** An AdmissionReview answer is an object plus a patch: the API's own request body limit (3 MiB) bounds it. */
  webhookResponseBytesMax: 3 * 1024 * 1024,
  /** Warnings kept per request, for the same reason; further ones are dropped. */
  warningsMax: 32,
  /** Characters kept of one warning; longer ones are truncated so one webhook cannot bloat the response headers. */
  warningCharsMax: 512,
  /** Quota and LimitRange objects read per namespace: a namespace holds a handful; more is a misuse. */
  policyObjectsMax: 100,
  /**
   * Objects listed per namespace to compute quota usage at admission time (no quota controller
   * keeps status.used yet). One bounded range read; a namespace over it is refused, not miscounted.
   */
  quotaUsageObjectsMax: 10_000,
  /** PriorityClasses read per pod create: clusters hold tens; a list beyond it is refused rather than resolved partially. */
  priorityClassesMax: 1_000,
  /** Wait for the first list of webhook configurations before refusing with 503: a member just started. */
  webhookCacheSyncWaitMs: 5_000,
} as const;
