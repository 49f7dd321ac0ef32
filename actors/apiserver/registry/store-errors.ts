/**
 * Store failures as the API answers them. The distinction that matters (see store/errors.ts): a
 * write refused before it entered the log will never apply (503), one already proposed may still
 * apply (504); the messages say so, because the client's next step depends on it.
 */
import { BusTimeoutError, NoRespondersError } from '../../../bus/errors.js';
import {
  CompactedError, FutureRevisionError, NoQuorumError, OutcomeUnknownError, ProposalDroppedError, QuotaExceededError,
  RequestTooLargeError, StorageFullError, StoreStoppedError, NotLeaderError,
} from '../../../store/index.js';
import { ApiError, apiErrors } from '../status.js';

/** `precheck`: a read made on behalf of a write; when it fails, the write was not applied. */
export type StoreOperation = 'read' | 'precheck' | 'write';

/**
 * Workaround: the store client can hand nats.js a sub-millisecond attempt timeout when its call
 * deadline is almost spent, and nats.js rejects that with NatsError("timeout", INVALID_OPTION)
 * instead of a BusTimeoutError. It means "the deadline passed", so it is answered as a timeout.
 */
function isSpentDeadline(error: unknown): boolean {
  return error instanceof Error && error.name === 'NatsError' && error.message === 'timeout';
}

export function toApiError(error: unknown, operation: StoreOperation): ApiError {
  if (error instanceof ApiError) return error;
  if (isSpentDeadline(error)) return toApiError(new OutcomeUnknownError('the call deadline passed'), operation);
  if (error instanceof NoQuorumError) {
    const effect = operation === 'read' ? 'the read was not served' : 'the write was not applied';
    return apiErrors.unavailable(`the cluster store has no quorum: ${error.reachable} of ${error.total} members reachable; ${effect}`);
  }
  if (error instanceof NotLeaderError || error instanceof ProposalDroppedError || error instanceof NoRespondersError || error instanceof StoreStoppedError) {
    const effect = operation === 'read' ? 'the read was not served' : 'the write was not applied';
    return apiErrors.unavailable(`the cluster store is unavailable (${error.message}); ${effect}`);
  }
  if (error instanceof OutcomeUnknownError || error instanceof BusTimeoutError) {
    if (operation === 'precheck') return apiErrors.unavailable('the cluster store did not answer in time (it may have lost quorum, or be overloaded); the write was not applied');
    return operation === 'write'
      ? apiErrors.timeout('the cluster store lost quorum while the write was in progress; it may or may not have been applied')
      : apiErrors.timeout('the cluster store did not answer the read in time');
  }
  if (error instanceof CompactedError) {
    return apiErrors.expired(`too old resource version: ${error.requestedRevision} (${error.compactRevision})`);
  }
  if (error instanceof FutureRevisionError) {
    return apiErrors.timeout(`Too large resource version: ${error.requestedRevision}, current: ${error.currentRevision}`);
  }
  if (error instanceof RequestTooLargeError) return apiErrors.tooLarge(error.limitBytes);
  if (error instanceof StorageFullError) {
    // kube-apiserver answers etcd's "database space exceeded" with 500; kubus does too, but says
    // what happened and what frees the store, since nothing else will tell the operator.
    const where = error.member === null ? '' : ` (member ${error.member})`;
    return apiErrors.internal(
      `the cluster store is full${where}: ${error.usedBytes} of ${error.quotaBytes} bytes in use; the write was not applied. ` +
        'Free space: delete objects, compact, then `kubus alarm disarm`',
    );
  }
  if (error instanceof QuotaExceededError) return apiErrors.internal(`the cluster store is full: ${error.message}`);
  return apiErrors.internal(`cluster store error: ${error instanceof Error ? error.message : String(error)}`);
}
