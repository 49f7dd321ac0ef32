/** Bounds of the EndpointSlice controller, each with its reason. */
export const endpointSliceLimits = {
  /** Kubernetes' default `--max-endpoints-per-slice`; the API refuses more than 1000 endpoints in a slice. */
  maxEndpointsPerSliceDefault: 100,
  maxEndpointsPerSliceMax: 1000,
  /** Services whose trigger-time state and write expectations are remembered. */
  trackedServicesMax: 100_000,
  /**
   * How long a Service waits for the informer to show its last writes before acting anyway: a
   * write the watch never delivers (a lost event, then a relist) must not block the Service forever.
   */
  expectationsTimeoutMs: 30_000,
  /** How soon a Service whose last writes the informer does not show yet is looked at again. */
  staleRetryMs: 50,
} as const;
