/**
 * Kubernetes API watches over NATS, the wire both sides share: limits, frames, requests, end
 * reasons and typed errors. The serving side is nats-watch-front.ts, the client nats-watch-client.ts.
 *
 * Protocol. The client subscribes to its inbox `kubus.<cluster>.inbox.<owner>.<id>`, then sends
 * the watch request on `kubus.<cluster>.api` (the queue group) with that `inbox`. The front that
 * takes it opens the watch on its own HTTPS API and answers with the HTTP status and headers; a
 * non-200 answer carries the Status body and opens nothing. A 200 answer names `{ member,
 * streamId }`, and the front publishes to the inbox, in order, with `seq` counting from 1:
 * `{ streamId, seq, kind: 'event', event }` for each line of the HTTPS watch, and one last
 * `{ streamId, seq, kind: 'end', reason }`. The client renews on `kubus.<cluster>.api.stream.
 * <member>` every `renewEveryMs`; the front ends a stream not renewed within `leaseMs`, and a
 * `cancel` there ends it at once.
 *
 * Decision: leased, like the store watch (store/store-watch.ts): a client that dies or loses the
 * bus says nothing, and the front must not relay a watch for it until the HTTPS side times out.
 *
 * Decision: no resend, no backpressure. NATS core neither blocks a publisher nor redelivers, so
 * a stream whose frames pile up (`overflow`) is ended, and a client that sees a hole in `seq`
 * (`gap`) ends its side. Both hand recovery to the path every Kubernetes watcher already has:
 * watch again from the last resourceVersion it saw.
 */
import { KubusError, type ErrorFields } from '../../bus/errors.js';
import { isValidToken, subjects } from '../../bus/subjects.js';
import { defaultHttpLimits } from './http/limits.js';
import type { ApiNatsRequest, ApiNatsResponse } from './nats-front.js';

export const natsWatchLimits = {
  /** Streams one front serves (open or opening): the HTTPS API behind it holds as many watches (`watchesMax`), no more. */
  streamsMax: defaultHttpLimits.watchesMax,
  /**
   * Frames queued for one stream before it ends with `overflow`, and on the client before it gives
   * up: the store watch's client bound (4,096 messages); a stream that far behind is cheaper re-watched.
   */
  framesBufferedMax: 4_096,
  /** Bytes of event text queued for one stream before `overflow`: what a slow HTTPS watch client may leave unread. */
  bufferedBytesMax: defaultHttpLimits.watchBufferBytesMax,
  /** One event line: a maximal object (3 MiB request body) plus its event wrapping fits; NATS refuses more than 4 MB anyway. */
  lineBytesMax: 4 * 1024 * 1024,
  /** Frames one stream publishes before yielding the event loop, as the NATS adapter drains subscriptions (`drainBatchMax`). */
  publishBatchMax: 256,
  /** A front ends a stream not renewed for this long: three renewal periods, so two lost renewals are survived. */
  leaseMs: 30_000,
  /** The client's renewal period: a third of the lease, as the store watch renews. */
  renewEveryMs: 10_000,
  /** A renewal is answered from memory: a member silent this long is stalled, not busy. */
  renewTimeoutMs: 5_000,
  /** Renewals failing in a row before the client gives the stream up: after two, the lease is about to expire anyway. */
  renewFailuresMax: 2,
  /** Stream ids in one renewal: a client may renew every stream of a front at once, no more. */
  renewIdsMax: defaultHttpLimits.watchesMax,
  /** Renewal and cancel requests waiting on one front: one round of renewals of every stream it serves. */
  controlPendingMax: defaultHttpLimits.watchesMax,
} as const;

/** Why a stream ended. The client adds `gap`, `overflow` (its own buffer) and `streamLost` to what the front sends. */
export type ApiWatchEndReason =
  /** The HTTPS watch ended: `timeoutSeconds` passed or the server closed it. */
  | 'ended'
  /** The HTTPS watch failed, sent a line that is not a JSON event, or a frame could not be published. */
  | 'error'
  /** Frames were produced faster than they were published (front) or handled (client). */
  | 'overflow'
  /** The client did not renew within the lease. */
  | 'leaseExpired'
  /** The serving front stopped. */
  | 'frontStopped'
  /** Client side: a frame is missing. */
  | 'gap'
  /** Client side: the front no longer knows the stream, or cannot be reached to renew it. */
  | 'streamLost';

/** One line of a Kubernetes watch: `{ type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR', object }`. */
export interface ApiWatchEvent {
  readonly type: string;
  readonly object: unknown;
}

export type ApiWatchFrame =
  | { readonly streamId: string; readonly seq: number; readonly kind: 'event'; readonly event: ApiWatchEvent }
  | { readonly streamId: string; readonly seq: number; readonly kind: 'end'; readonly reason: ApiWatchEndReason };

export type StreamControlRequest =
  | { readonly type: 'renew'; readonly streamIds: readonly string[] }
  | { readonly type: 'cancel'; readonly streamId: string };

/** Where a 200 watch answer says renewals go. */
export interface ApiWatchStreamRef {
  readonly member: string;
  readonly streamId: string;
}

/** A hole in a stream's `seq`: NATS core dropped a frame; watch again from the last resourceVersion. */
export class WatchGapError extends KubusError {
  override readonly name = 'WatchGapError';
  readonly code = 'watchGap';
  constructor(readonly streamId: string, readonly expectedSeq: number, readonly receivedSeq: number) {
    super(`watch stream ${streamId} expected frame ${expectedSeq} and received ${receivedSeq}`);
  }
  override fields(): ErrorFields {
    return { streamId: this.streamId, expectedSeq: this.expectedSeq, receivedSeq: this.receivedSeq };
  }
}

/** The serving front no longer serves the stream (it forgot it or cannot be reached). */
export class WatchStreamLostError extends KubusError {
  override readonly name = 'WatchStreamLostError';
  readonly code = 'watchStreamLost';
  constructor(readonly member: string, readonly streamId: string, detail: string, options?: { cause: unknown }) {
    super(`watch stream ${streamId} on ${member} is lost: ${detail}`, options);
  }
  override fields(): ErrorFields {
    return { member: this.member, streamId: this.streamId };
  }
}

/** A renewal or cancel request that is not one. */
export class BadStreamControlError extends KubusError {
  override readonly name = 'BadStreamControlError';
  readonly code = 'badStreamControl';
}

/** Whether `subject` is one client inbox of `cluster`: `kubus.<cluster>.inbox.<owner>.<id>`, literal tokens only. */
export function isClientInbox(cluster: string, subject: unknown): subject is string {
  const prefix = `${subjects(cluster).all.slice(0, -1)}inbox.`;
  if (typeof subject !== 'string' || !subject.startsWith(prefix)) return false;
  const rest = subject.slice(prefix.length).split('.');
  return rest.length === 2 && rest.every(isValidToken);
}

/** A watch request over NATS: an API request plus the inbox the frames go to. */
export interface ApiNatsWatchRequest extends ApiNatsRequest {
  readonly inbox: string;
}

/** The first answer to a watch: a 200 names the stream; anything else carries the Status body. */
export interface ApiNatsWatchResponse extends ApiNatsResponse {
  readonly stream?: ApiWatchStreamRef;
}

/** Whether `frame` is the next one (`ok`), one already seen (`stale`, ignored) or after a hole (`gap`). */
/**
 * Whether a value received on a client inbox is a well-formed frame: anything else (another
 * publisher's noise, a forged frame) is dropped before it reaches the caller's handlers.
 */
export function isApiWatchFrame(value: unknown): value is ApiWatchFrame {
  if (typeof value !== 'object' || value === null) return false;
  const frame = value as Record<string, unknown>;
  if (typeof frame['streamId'] !== 'string' || !Number.isSafeInteger(frame['seq']) || (frame['seq'] as number) < 1) return false;
  if (frame['kind'] === 'end') return typeof frame['reason'] === 'string';
  if (frame['kind'] !== 'event') return false;
  const event = frame['event'];
  return typeof event === 'object' && event !== null && typeof (event as Record<string, unknown>)['type'] === 'string';
}

export function checkFrameSeq(expectedSeq: number, frame: Pick<ApiWatchFrame, 'seq'>): 'ok' | 'stale' | 'gap' {
  if (frame.seq === expectedSeq) return 'ok';
  return frame.seq < expectedSeq ? 'stale' : 'gap';
}
