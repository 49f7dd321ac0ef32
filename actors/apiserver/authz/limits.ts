/** Every bound of the authorization caches, with the reason for its number. */
export const authzLimits = {
  /**
   * Objects one watched collection (roles, bindings, pods, ...) keeps in memory. Kubernetes' own
   * scalability target is 150k pods per cluster; kubus aims at small clusters, so 50k objects of a
   * kind is well above any real use while bounding memory to tens of MB per kind.
   */
  cachedObjectsMax: 50_000,
  /** First delay before re-listing after a watch failed: long enough not to spin during an election. */
  resumeDelayMinMs: 250,
  /** Cap of the doubling resume delay: a cache is at most this stale after the store heals. */
  resumeDelayMaxMs: 5_000,
  /** Escalation refusals name at most this many missing rules, so the message stays readable. */
  missingRulesShownMax: 5,
} as const;

export function checkAuthzLimits(limits: typeof authzLimits): void {
  if (limits.resumeDelayMinMs <= 0 || limits.resumeDelayMaxMs < limits.resumeDelayMinMs) {
    throw new RangeError('authz limits: need 0 < resumeDelayMinMs <= resumeDelayMaxMs');
  }
  if (limits.cachedObjectsMax <= 0 || limits.missingRulesShownMax <= 0) {
    throw new RangeError('authz limits: counts must be positive');
  }
}
