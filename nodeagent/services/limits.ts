/**
 * Bounds of the node's Service catalog. The informers' own bounds (objects held, page size,
 * backoff) are the controller runtime's (actors/controllers/runtime/limits.ts).
 */
export const catalogLimits = {
  /**
   * Resolved endpoint lists kept per Service (one per port name and protocol asked for): a Service
   * has at most a few ports, so more keys than this means a caller asks for ports that do not
   * exist; the memo is then cleared rather than grown.
   */
  memoPerServiceMax: 64,
} as const;
