/** Bounds of the node credentials revoker, with the reason for each number. */
export const nodeCredentialsRevokerLimits = {
  /**
   * How long after its newest NATS user was issued a node without a Node object keeps that user,
   * when its deletion was not seen (a missed event, or a node that never registered). An agent
   * registers right after receiving its credentials; a minute covers a slow start and an API
   * retry or two, and bounds how long a never-registered user lives.
   */
  registrationGraceMs: 60_000,
  /** Node deletions remembered between the event and the reconcile (oldest forgotten first). */
  deletedNodesMax: 10_000,
} as const;
