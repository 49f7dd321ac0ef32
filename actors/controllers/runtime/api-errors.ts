/**
 * The API's Status failures as typed errors, rebuilt on the client from the Status body a
 * request over NATS answers: `ApiStatusError` carries the HTTP status, reason, message, details
 * and Retry-After; subclasses name the failures loops act on (404, 409, 410, 422, 429, 403).
 *
 * Decision: `code` is the stable kubus error code (bus/errors.ts), `httpStatus` the HTTP code, as
 * in the API server's own ApiError, so `error.code === 'notFound'` and `error.httpStatus === 404`
 * both read plainly and TypeScript refuses `error.code === 404`.
 */
import { KubusError, type ErrorFields } from '../../../bus/errors.js';

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly uid?: string;
  readonly causes?: readonly { readonly reason?: string; readonly message?: string; readonly field?: string }[];
  readonly retryAfterSeconds?: number;
}

export class ApiStatusError extends KubusError {
  override readonly name: string = 'ApiStatusError';
  readonly code: string = 'apiStatus';
  constructor(
    readonly httpStatus: number,
    readonly reason: string,
    message: string,
    readonly details: StatusDetails | undefined,
    /** From the Retry-After header, else details.retryAfterSeconds. */
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(message);
  }
  override fields(): ErrorFields {
    return { httpStatus: this.httpStatus, reason: this.reason, retryAfterSeconds: this.retryAfterSeconds ?? null };
  }
}

export class NotFoundError extends ApiStatusError {
  override readonly name = 'NotFoundError';
  override readonly code = 'notFound';
}
/** 409 with reason Conflict: a stale resourceVersion (re-read and try again). */
export class ConflictError extends ApiStatusError {
  override readonly name: string = 'ConflictError';
  override readonly code: string = 'conflict';
}
/** 409 with reason AlreadyExists: a create of a name already taken (client-go tells the two 409s apart the same way). */
export class AlreadyExistsError extends ApiStatusError {
  override readonly name = 'AlreadyExistsError';
  override readonly code = 'alreadyExists';
}
/** 410: the resourceVersion is compacted; an informer relists. */
export class GoneError extends ApiStatusError {
  override readonly name = 'GoneError';
  override readonly code = 'gone';
}
export class InvalidError extends ApiStatusError {
  override readonly name = 'InvalidError';
  override readonly code = 'invalid';
}
export class TooManyRequestsError extends ApiStatusError {
  override readonly name = 'TooManyRequestsError';
  override readonly code = 'tooManyRequests';
}
export class ForbiddenError extends ApiStatusError {
  override readonly name = 'ForbiddenError';
  override readonly code = 'forbidden';
}

/** A call made through a leadership term's client after the term ended: the loop must stop acting. */
export class LeadershipLostError extends KubusError {
  override readonly name = 'LeadershipLostError';
  readonly code = 'leadershipLost';
  constructor(readonly lease: string) {
    super(`the ${lease} Lease is no longer held by this process: the call was not made`);
  }
  override fields(): ErrorFields {
    return { lease: this.lease };
  }
}

/** Builds the typed error of a non-2xx answer from its status, Status body and headers. */
export function apiStatusError(httpStatus: number, body: unknown, headers: Readonly<Record<string, string>> = {}): ApiStatusError {
  const status = (typeof body === 'object' && body !== null ? body : {}) as { reason?: unknown; message?: unknown; details?: unknown };
  const reason = typeof status.reason === 'string' ? status.reason : '';
  const message = typeof status.message === 'string' && status.message !== '' ? status.message : `the API answered ${httpStatus}`;
  const details = typeof status.details === 'object' && status.details !== null ? (status.details as StatusDetails) : undefined;
  const header = Number(headers['retry-after'] ?? headers['Retry-After']);
  const retryAfterSeconds = Number.isFinite(header) && header >= 0 ? header : typeof details?.retryAfterSeconds === 'number' ? details.retryAfterSeconds : undefined;
  const args = [httpStatus, reason, message, details, retryAfterSeconds] as const;
  switch (httpStatus) {
    case 403: return new ForbiddenError(...args);
    case 404: return new NotFoundError(...args);
    case 409: return reason === 'AlreadyExists' ? new AlreadyExistsError(...args) : new ConflictError(...args);
    case 410: return new GoneError(...args);
    case 422: return new InvalidError(...args);
    case 429: return new TooManyRequestsError(...args);
    default: return new ApiStatusError(...args);
  }
}

export const isNotFound = (error: unknown): error is NotFoundError => error instanceof NotFoundError;
export const isConflict = (error: unknown): error is ConflictError => error instanceof ConflictError;
export const isAlreadyExists = (error: unknown): error is AlreadyExistsError => error instanceof AlreadyExistsError;
export const isGone = (error: unknown): error is GoneError => error instanceof GoneError;
export const isInvalid = (error: unknown): error is InvalidError => error instanceof InvalidError;
export const isTooManyRequests = (error: unknown): error is TooManyRequestsError => error instanceof TooManyRequestsError;
export const isForbidden = (error: unknown): error is ForbiddenError => error instanceof ForbiddenError;
