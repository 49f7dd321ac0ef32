/**
 * Bounds of the MVCC state machine. Requests beyond them are refused with InvalidRequestError on
 * every member alike (they are part of the replicated semantics, so changing one is a protocol
 * change: all members must agree).
 */
export const mvccLimits = {
  /** etcd allows far longer keys; kubus keys are object paths, and short keys keep scans cheap. */
  keyBytesMax: 4_096,
  /** Compares plus operations of one txn (etcd's default `max-txn-ops`). */
  txnOpsMax: 128,
  /** Checkpoints in one leaseCheckpoint command. */
  checkpointsMax: 1_024,
  /** Lease ids are positive integers below 2^53 (they travel as JS numbers). */
  leaseIdMax: Number.MAX_SAFE_INTEGER,
  /** Longest lease TTL: a day; longer is a configuration mistake rather than a lease. */
  leaseTtlMsMax: 86_400_000,
  /**
   * Revision records one `eventsSince` call examines (matching or not) before it returns what it
   * has; a watcher on a rare key then catches up in bounded steps instead of one long scan.
   */
  eventsScanMax: 10_000,
  /** A member id in an alarm record: member ids are short names. */
  alarmMemberLengthMax: 256,
} as const;

/** LeaseKeeper bounds (leader-side timers). */
export const leaseKeeperLimits = {
  /** Leases in one checkpoint batch; the keeper rotates through the rest on later calls. */
  checkpointBatchMax: 1_024,
  /**
   * An expired lease is handed out again after this long if it is still known: its revocation
   * was lost (dropped proposal) and must be retried, but not on every tick.
   */
  revokeRetryMs: 1_000,
} as const;
