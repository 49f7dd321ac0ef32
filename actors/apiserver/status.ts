/**
 * Kubernetes `Status` errors: every failure the API answers is an ApiError carrying the HTTP code,
 * the Status reason and the details (kind, name, causes) that kubectl and client-node print.
 */
import { KubusError, type ErrorFields } from '../../bus/errors.js';
import type { FieldCause } from './types.js';

export type StatusReason =
  | 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'MethodNotAllowed' | 'NotAcceptable'
  | 'AlreadyExists' | 'Conflict' | 'Gone' | 'Expired' | 'RequestEntityTooLarge' | 'UnsupportedMediaType'
  | 'Invalid' | 'TooManyRequests' | 'InternalError' | 'ServiceUnavailable' | 'Timeout';

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly FieldCause[];
  readonly retryAfterSeconds?: number;
}

export interface StatusObject {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure' | 'Success';
  readonly message: string;
  readonly reason: StatusReason | '';
  readonly details?: StatusDetails;
  readonly code: number;
}

export class ApiError extends KubusError {
  override readonly name = 'ApiError';
  readonly code = 'apiError';
  constructor(readonly httpStatus: number, readonly reason: StatusReason, message: string, readonly details?: StatusDetails) {
    super(message);
  }
  override fields(): ErrorFields {
    return { httpStatus: this.httpStatus, reason: this.reason, details: (this.details ?? null) as unknown as ErrorFields[string] };
  }
  toStatus(): StatusObject {
    return {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason,
      ...(this.details !== undefined ? { details: this.details } : {}),
      code: this.httpStatus,
    };
  }
}

/** `resource` as Kubernetes names it in messages: `pods`, or `deployments.apps`. */
function qualified(resource: string, group: string): string {
  return group === '' ? resource : `${resource}.${group}`;
}

export const apiErrors = {
  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),
  unauthorized: () => new ApiError(401, 'Unauthorized', 'Unauthorized'),
  forbidden: (message: string) => new ApiError(403, 'Forbidden', message),
  notFound: (resource: string, group: string, name: string) =>
    new ApiError(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, { name, group, kind: resource }),
  methodNotAllowed: (message: string) => new ApiError(405, 'MethodNotAllowed', message),
  notAcceptable: (message: string) => new ApiError(406, 'NotAcceptable', message),
  alreadyExists: (resource: string, group: string, name: string) =>
    new ApiError(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, { name, group, kind: resource }),
  conflict: (resource: string, group: string, name: string, why: string) =>
    new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`, { name, group, kind: resource }),
  /** 410 for a compacted resourceVersion, in lists and watches. */
  expired: (message: string) => new ApiError(410, 'Expired', message),
  tooLarge: (limitBytes: number) => new ApiError(413, 'RequestEntityTooLarge', `the request body is larger than the limit of ${limitBytes} bytes`),
  unsupportedMediaType: (message: string) => new ApiError(415, 'UnsupportedMediaType', message),
  invalid: (kind: string, group: string, name: string, causes: readonly FieldCause[]) =>
    new ApiError(422, 'Invalid', `${group === '' ? kind : `${kind}.${group}`} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, { name, group, kind, causes }),
  tooManyRequests: (retryAfterSeconds: number, message = 'too many requests in flight; retry later') =>
    new ApiError(429, 'TooManyRequests', message, { retryAfterSeconds }),
  internal: (message: string) => new ApiError(500, 'InternalError', message),
  /** A write refused before it entered the log: it will never apply. */
  unavailable: (message: string) => new ApiError(503, 'ServiceUnavailable', message, { retryAfterSeconds: 1 }),
  /** A write whose outcome is unknown: it may or may not have been applied. */
  timeout: (message: string) => new ApiError(504, 'Timeout', message, { retryAfterSeconds: 1 }),
} as const;
