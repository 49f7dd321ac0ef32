/** Bounds of the volume manager; each says why it is what it is. */
export const volumeLimits = {
  /** Kubernetes' default file mode for configMap, secret, downwardAPI and projected files. */
  defaultFileMode: 0o644,
  /** Token lifetime when a projected serviceAccountToken names none (Kubernetes' default, one hour). */
  tokenExpirationSecondsDefault: 3600,
  /** The API refuses shorter tokens (Kubernetes' minimum, ten minutes). */
  tokenExpirationSecondsMin: 600,
  /** A token is renewed at this fraction of its life (the kubelet's 80 %), leaving a fifth to retry in. */
  tokenRotateFraction: 0.8,
  /** Tokens kept at most: a few per pod, max-pods pods; beyond, the oldest are forgotten (re-requested when needed). */
  tokensMax: 1_024,
  /**
   * How often refresh() checks local-path PVs it created for deletion: each check is one GET per
   * directory, and a deleted volume's directory may wait this long to go.
   */
  localPathSweepIntervalMs: 60_000,
  /** Files visited per emptyDir size check at most: bounds the walk of a huge tree (the check is then a lower bound). */
  sizeCheckEntriesMax: 100_000,
  /** Items of one configMap/secret/projected volume at most (Kubernetes' object size bound makes more impossible anyway). */
  payloadFilesMax: 4_096,
} as const;

/** The directory a `medium: Memory` emptyDir lives under when it is writable (tmpfs on Linux). */
export const memoryMediumRoot = '/dev/shm';
