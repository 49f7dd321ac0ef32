/**
 * Why a stream ended badly, typed so a caller can act: a reset names who ended it and why
 * (`reason`), a refusal carries the acceptor's typed reason, an open that got no answer says so.
 */
import { KubusError, type ErrorFields } from '../errors.js';

/**
 * Why a stream was reset: `gap` (a frame was lost: NATS core delivers at most once, so a missing
 * sequence number cannot be repaired), `peerTimeout` (nothing heard within the bound), `overrun`
 * (the peer sent past its credit), `remote` (the peer reset it), `cancelled` (this side destroyed
 * it), `closed` (the endpoint stopped).
 */
export type StreamResetReason = 'gap' | 'peerTimeout' | 'overrun' | 'remote' | 'cancelled' | 'closed' | 'protocol';

export class StreamResetError extends KubusError {
  override readonly name = 'StreamResetError';
  readonly code = 'streamReset';
  constructor(readonly streamId: string, readonly reason: StreamResetReason, detail: string) {
    super(`stream ${streamId} reset (${reason}): ${detail}`);
  }
  override fields(): ErrorFields {
    return { streamId: this.streamId, reason: this.reason };
  }
}

/** The far end answered the open with a refusal; `reason` is its code (e.g. `notAPod`, `connectFailed`). */
export class StreamRefusedError extends KubusError {
  override readonly name = 'StreamRefusedError';
  readonly code = 'streamRefused';
  constructor(readonly subject: string, readonly reason: string, detail: string) {
    super(`stream open on ${subject} refused (${reason}): ${detail}`);
  }
  override fields(): ErrorFields {
    return { subject: this.subject, reason: this.reason };
  }
}

/** Nobody answered the open: no listener on the subject (`noResponders`), or none within the deadline (`timeout`). */
export class StreamOpenError extends KubusError {
  override readonly name = 'StreamOpenError';
  readonly code = 'streamOpen';
  constructor(readonly subject: string, readonly reason: 'noResponders' | 'timeout' | 'aborted' | 'tooManyStreams' | 'forbidden', detail: string, options?: { cause: unknown }) {
    super(`stream open on ${subject} failed (${reason}): ${detail}`, options);
  }
  override fields(): ErrorFields {
    return { subject: this.subject, reason: this.reason };
  }
}
