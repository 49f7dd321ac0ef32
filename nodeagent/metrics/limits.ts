/** Bounds of the agent's metrics collection; each with its reason. */
export const metricsCollectorLimits = {
  /**
   * containerStats calls in flight at once: Docker's one-shot stats take about a second each (it
   * samples twice), so 110 pods in series would overrun a 15 s interval; 8 keeps a node's runtime
   * from being flooded while a full node is read in a few seconds.
   */
  statsConcurrencyMax: 8,
  /** One container's stats call; beyond it the container is left out of this report (its pod too: a pod is reported whole or not at all). */
  statsTimeoutMs: 5_000,
  /** Shortest interval accepted (tests use 1 s); below it a report per node floods the members for nothing. */
  intervalMsMin: 100,
  /** A failing collection or publish is logged at most this often (a broken runtime fails every interval). */
  failureLogEveryMs: 60_000,
} as const;

/** Linux's USER_HZ: /proc/stat counts in 1/100 s on every architecture Node runs on (the kernel fixes it for user space). */
export const procStatTicksPerSecond = 100;
