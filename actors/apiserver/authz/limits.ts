/** Every bound of authorization, with the reason for its number (its caches' bounds: registry/watched-collection.ts). */
export const authzLimits = {
  /** Escalation refusals name at most this many missing rules, so the message stays readable. */
  missingRulesShownMax: 5,
} as const;

export function checkAuthzLimits(limits: typeof authzLimits): void {
  if (limits.missingRulesShownMax <= 0) {
    throw new RangeError('authz limits: counts must be positive');
  }
}
