/** Bounds of the env part; each says why it is what it is. */
export const envLimits = {
  /**
   * How long a ConfigMap, Secret or Service list read is reused. Short, because a restarted
   * container must see a changed ConfigMap soon (Kubernetes reads them at each container start);
   * non-zero, because one pod start resolves several containers against the same objects.
   */
  objectCacheTtlMs: 5_000,
  /** The Node's allocatable changes rarely (a restart of the agent with other flags); a minute is plenty. */
  nodeCacheTtlMs: 60_000,
  /** Cached entries at most; beyond, the oldest go (a node runs at most max-pods pods, ~110, each with a few references). */
  cacheEntriesMax: 2_048,
  /**
   * After a request the API did not answer, reads with a last known value use it without asking
   * for this long: offline, each request waits out its timeout (10 s), and a pod start reads several
   * objects; the first answered request ends the hold early.
   */
  unreachableHoldMs: 30_000,
  /** Services listed per namespace at most: the API's page size bound for one read; more would be a pathological namespace. */
  servicesPerNamespaceMax: 5_000,
} as const;
