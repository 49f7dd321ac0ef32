/**
 * Bounds of the `sim` provider (each with its reason).
 */
export const simLimits = {
  /** Instances one scripted cloud may list: the node-scale benchmarks go to 5,000 nodes; 10,000 leaves room without letting a runaway generator fill memory. */
  instancesMax: 10_000,
  /** Largest scripted API latency (plus jitter): beyond a minute no controller's call timeout would ever see an answer, which tests nothing. */
  latencyMsMax: 60_000,
  /** Addresses one scripted instance may carry (a real instance has a handful). */
  addressesPerInstanceMax: 16,
} as const;
