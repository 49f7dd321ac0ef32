/** Bounds of the node lifecycle and taint eviction controllers (STYLE rule 5), each with its reason. */
import { runtimeLimits } from '../runtime/index.js';

export const nodeLifecycleLimits = {
  /**
   * Health records and zone-queue entries: one per Node the informer holds, dropped with the Node,
   * so the informer's own bound is theirs.
   */
  nodesMax: runtimeLimits.informerObjectsMax,
  /** Scheduled evictions remembered (for the "Cancelling deletion" Event): one per pod at most. */
  scheduledEvictionsMax: runtimeLimits.informerObjectsMax,
  /** Soonest next pass: a Node due "now" must not turn the monitor into a busy loop. */
  passIntervalMinMs: 20,
  /** A NoExecute taint whose write failed is tried again this soon (Kubernetes retries after 50 ms). */
  taintRetryMs: 50,
} as const;
