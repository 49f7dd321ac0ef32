/**
 * The kubelet part's operating errors (bus/errors.ts conventions: a class per kind with a `code`
 * and the fields a caller needs to act).
 */
import { KubusError, type ErrorFields } from '../../bus/errors.js';

/** The checkpoint would exceed its size bound: it is not written (the previous one stays). */
export class CheckpointTooLargeError extends KubusError {
  override readonly name = 'CheckpointTooLargeError';
  readonly code = 'checkpointTooLarge';
  constructor(readonly bytes: number, readonly bytesMax: number) {
    super(`checkpoint of ${bytes} bytes exceeds ${bytesMax}; not written (too many pods for one node?)`);
  }
  override fields(): ErrorFields {
    return { bytes: this.bytes, bytesMax: this.bytesMax };
  }
}
