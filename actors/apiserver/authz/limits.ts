/** Every bound of authorization, with the reason for its number (its caches' bounds: registry/watched-collection.ts). */
export const authzLimits = {
  /** Escalation refusals name at most this many missing rules, so the message stays readable. */
  missingRulesShownMax: 5,
  /**
   * How long a node's request that the node graph would refuse waits for the graph's first list
   * after this member started (pods and claims; a few hundred ms on a healthy store): a refusal
   * before then is the member's ignorance, not the node's lack of rights. Past it the answer is a
   * retryable 503, not a 403 the kubelet would take as final.
   */
  nodeGraphSyncWaitMs: 5_000,
  /**
   * How long a node's request the loaded graph still refuses waits for the graph's next changes:
   * the pod was bound a moment ago and this member's pod watch has not delivered the binding yet
   * (a kubelet's first status write races it). The watch lags by milliseconds on a healthy store;
   * a second covers a loaded one, and a node asking for what is truly not its own waits no longer.
   */
  nodeGraphCatchUpMs: 1_000,
} as const;

export function checkAuthzLimits(limits: typeof authzLimits): void {
  if (limits.missingRulesShownMax <= 0 || limits.nodeGraphSyncWaitMs <= 0 || limits.nodeGraphCatchUpMs <= 0) {
    throw new RangeError('authz limits: counts must be positive');
  }
}
