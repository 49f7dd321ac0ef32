/**
 * Bounds of the HTTP front. Each has a reason; `checkHttpLimits` runs at start-up so a caller's
 * override cannot produce a nonsensical combination.
 */
export interface HttpLimits {
  /** Kubernetes refuses request bodies over 3 MiB (etcd's value limit is 1.5 MiB plus overhead). */
  readonly requestBodyBytesMax: number;
  /** Ordinary (non-watch) requests served at once; beyond it 429 + Retry-After sheds load instead of queueing without bound. */
  readonly inFlightMax: number;
  /** Open watch streams; each holds a store watch and a socket. */
  readonly watchesMax: number;
  /** Longest watch: Kubernetes closes watches after 30-60 min; clients re-watch from their last resourceVersion. */
  readonly watchSecondsMax: number;
  /** Bytes a slow watch client may leave unread before we drop it (it re-lists and re-watches). */
  readonly watchBufferBytesMax: number;
  /** Seconds suggested in Retry-After on a 429. */
  readonly retryAfterSeconds: number;
  /**
   * Bytes of request bodies held by requests across the member: a body is read before its request
   * waits for a seat (fairness.ts) and kept until the answer. Without it, every admitted request
   * could pin a full 3 MiB body while it waits; 256 MiB is ~85 maximal bodies or thousands of
   * ordinary ones; beyond it a request gets 429.
   */
  readonly bodyBytesReadAheadMax: number;
}

export const defaultHttpLimits: HttpLimits = {
  requestBodyBytesMax: 3 * 1024 * 1024,
  inFlightMax: 400,
  watchesMax: 1_000,
  watchSecondsMax: 30 * 60,
  watchBufferBytesMax: 16 * 1024 * 1024,
  retryAfterSeconds: 1,
  bodyBytesReadAheadMax: 256 * 1024 * 1024,
};

export function checkHttpLimits(limits: HttpLimits): void {
  const positive = Object.entries(limits).filter(([, value]) => !(Number.isInteger(value) && value > 0));
  if (positive.length > 0) throw new RangeError(`http limits must be positive integers: ${positive.map(([key]) => key).join(', ')}`);
  if (limits.bodyBytesReadAheadMax < limits.requestBodyBytesMax) {
    throw new RangeError('bodyBytesReadAheadMax must hold at least one maximal body (requestBodyBytesMax)');
  }
  if (limits.watchBufferBytesMax < limits.requestBodyBytesMax) {
    throw new RangeError('watchBufferBytesMax must hold at least one maximal object (requestBodyBytesMax)');
  }
}
