/** Bounds of the Endpoints controller, each with its reason. */
export const endpointsLimits = {
  /** Kubernetes' maxCapacity: an Endpoints object holds at most 1000 addresses (EndpointSlices hold the rest). */
  endpointsAddressesMax: 1000,
  /** Services whose trigger-time state is remembered; beyond it the oldest is forgotten (its next write carries no stale time, only a later one). */
  trackedServicesMax: 100_000,
} as const;
