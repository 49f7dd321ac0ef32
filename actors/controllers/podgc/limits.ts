/** Bounds of the pod garbage collector (STYLE rule 5), each with its reason. */
import { runtimeLimits } from '../runtime/index.js';

export const podGcLimits = {
  /** Orphan quarantine starts and deleted-Node tombstones: one per pod / Node the informers hold. */
  trackedMax: runtimeLimits.informerObjectsMax,
  /**
   * Deleted Nodes remembered so their pods skip the quarantine: their deletion was seen, nothing
   * is left to wait for. Older ones are forgotten first; their pods then wait out the quarantine.
   */
  deletedNodesMax: 10_000,
  /** Terminated pods deleted in one pass over the threshold; the rest go in the next pass, so one pass never floods the API. */
  terminatedDeletesPerPassMax: 500,
} as const;
