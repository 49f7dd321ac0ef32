/** Every bound the object store keeps, with the reason for its value. */
export const objectStoreLimits = {
  /**
   * Whole-call deadline of a write, retries included. Every write must be answered (503 or 504)
   * within 2 s of the store losing quorum; 500 ms of that is left for the request's own parsing,
   * admission and encoding, and for a busy event loop, so the 2 s hold on a loaded machine.
   */
  writeTimeoutMs: 1_500,
  /**
   * After a create's write timed out (outcome unknown), one linearizable read of the key within this
   * tells whether it landed: found with the uid this create generated, the client gets its 201 rather
   * than a 504 its retry would turn into AlreadyExists. Small, so the answer stays within the 2 s a
   * write may take when quorum is lost.
   */
  createReadBackMs: 300,
  /** The least time given to one store call even when the write's deadline is spent: one quick, typed failure. */
  attemptFloorMs: 50,
  /** Whole-call deadline of a read; reads are retried freely, but a client must not hang. */
  readTimeoutMs: 5_000,
  /** Read-modify-CAS rounds of one update before answering 409 Conflict: contention is a client problem. */
  updateAttemptsMax: 16,
  /** Random names tried for one `generateName` create before answering AlreadyExists. */
  generateNameAttemptsMax: 8,
  /** Keys fetched per store read while filling a selector-filtered page. */
  listBatchKeys: 500,
  /** Store reads of one list page: with the batch size above, the most keys one page scans is their product. */
  listBatchesMax: 200,
  /** How often a watch that allows bookmarks gets one. */
  bookmarkIntervalMs: 5_000,
} as const;
