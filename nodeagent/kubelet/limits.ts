/**
 * Every bound of the pod manager, its workers, the status manager and the checkpoint, named and
 * with its reason, in one place (STYLE.md rule 5).
 */
export const kubeletLimits = {
  /** First CrashLoopBackOff delay (Kubernetes' kubelet: 10 s). */
  restartBackoffInitialMs: 10_000,
  /** The delay doubles up to this (Kubernetes: 5 min), so a crashing container costs little. */
  restartBackoffMaxMs: 300_000,
  /** A container that ran this long before exiting starts over at the first delay (Kubernetes: 10 min). */
  restartBackoffResetMs: 600_000,
  /** Periodic relist of a pod's containers: an exit whose runtime event was lost is seen within this. */
  relistIntervalMs: 1_000,
  /** configMap, secret, downwardAPI and token volume contents are re-rendered this often while a pod runs (the kubelet's --sync-frequency, 1 min). */
  volumeRefreshIntervalMs: 60_000,
  /** A failed sandbox or volume setup is tried again after this (the runtime or a volume source may come back). */
  sandboxRetryMs: 2_000,
  /** First wait after a failed image pull (Kubernetes' kubelet: 10 s), doubling to the max (5 min). */
  imagePullBackoffInitialMs: 10_000,
  imagePullBackoffMaxMs: 300_000,
  /** Grace when the pod names none (Kubernetes' default terminationGracePeriodSeconds). */
  defaultTerminationGraceSeconds: 30,
  /** A preStop hook leaves at least this much of the grace period to SIGTERM (Kubernetes gives 2 s). */
  minimumStopGraceSeconds: 2,
  /** postStart hooks are bounded too (Kubernetes has none; a hung hook must not hold the worker forever). */
  postStartHookTimeoutMs: 30_000,
  /** Status writes per second to the API, and the burst above it (the kubelet's --kube-api-qps 5/burst 10, doubled for the relist churn of 110 pods). */
  statusWriteQps: 10,
  statusWriteBurst: 20,
  /** Pods whose newest status waits for the API while it is unreachable; beyond it the oldest waiting entry is dropped (a later change re-queues it). */
  statusQueuePodsMax: 10_000,
  /** Deletions waiting for the API while it is unreachable (each is one pod, bounded by the node's pods). */
  deletionQueueMax: 10_000,
  /** Retry of a failed status write or deletion: from the first delay doubling to the max (the API may be away for minutes). */
  statusRetryInitialMs: 500,
  statusRetryMaxMs: 10_000,
  /**
   * A status write refused 403 is asked again after this delay, at most `statusRefusedRetriesMax`
   * times (a minute in all): the member answering may not have seen the pod's binding yet (its
   * node graph follows a watch), which Kubernetes' kubelet covers with its 10 s status resync.
   */
  statusRefusedRetryMs: 10_000,
  statusRefusedRetriesMax: 6,
  /** Checkpoint writes are coalesced over this window (a sync of 110 pods is one write, not 110). */
  checkpointCoalesceMs: 200,
  /** A checkpoint larger than this is refused (with a warning) rather than filling the disk: ~110 pod objects take well under 8 MiB. */
  checkpointBytesMax: 64 * 1024 * 1024,
} as const;
