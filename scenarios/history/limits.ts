/** Bounds of the history checker, each with its reason. */

/**
 * Search iterations between two reads of the clock: reading it costs far more than one
 * iteration, and 1,024 iterations take well under a millisecond, so the budget overshoots by
 * less than that.
 */
export const budgetCheckEveryIterations = 1_024;

/** Operations of the longest linearizable prefix shown in a violation: the tail is what matters. */
export const explanationPrefixOperationsMax = 20;

/** Concurrent candidates listed next to the operation that could not be placed. */
export const explanationCandidatesMax = 12;
