/**
 * A Status answer becomes the typed error a loop acts on: 404 NotFound, 409 Conflict vs
 * AlreadyExists by reason, 410 Gone, 422 Invalid, 429 with its Retry-After (header first, then
 * details), 403 Forbidden; the client's wait before retrying a 429 is clamped; paths are
 * kube-apiserver's.
 */
import { describe, expect, test } from 'vitest';
import {
  AlreadyExistsError, ApiStatusError, ConflictError, ForbiddenError, GoneError, InvalidError, NotFoundError, TooManyRequestsError,
  apiStatusError, isAlreadyExists, isConflict, isNotFound,
} from '../../../actors/controllers/runtime/api-errors.js';
import { retryDelayMs } from '../../../actors/controllers/runtime/api-client.js';
import { query, resourcePath } from '../../../actors/controllers/runtime/api-paths.js';
import { refs } from '../../../actors/controllers/runtime/resource-refs.js';

const status = (code: number, reason: string, extra: object = {}) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: `m${code}`, ...extra });

describe('apiStatusError', () => {
  test('each status to its class, with code, httpStatus, reason and message', () => {
    const cases: [number, string, new (...args: never[]) => ApiStatusError, string][] = [
      [404, 'NotFound', NotFoundError, 'notFound'],
      [409, 'Conflict', ConflictError, 'conflict'],
      [409, 'AlreadyExists', AlreadyExistsError, 'alreadyExists'],
      [410, 'Expired', GoneError, 'gone'],
      [422, 'Invalid', InvalidError, 'invalid'],
      [429, 'TooManyRequests', TooManyRequestsError, 'tooManyRequests'],
      [403, 'Forbidden', ForbiddenError, 'forbidden'],
      [500, 'InternalError', ApiStatusError, 'apiStatus'],
    ];
    for (const [code, reason, type, kubusCode] of cases) {
      const error = apiStatusError(code, status(code, reason));
      expect(error).toBeInstanceOf(type);
      expect([error.code, error.httpStatus, error.reason, error.message]).toEqual([kubusCode, code, reason, `m${code}`]);
    }
    expect(isAlreadyExists(apiStatusError(409, status(409, 'AlreadyExists')))).toBe(true);
    expect(isConflict(apiStatusError(409, status(409, 'AlreadyExists')))).toBe(false);
    expect(isNotFound(apiStatusError(404, {}))).toBe(true);
  });

  test('Retry-After: the header wins over details; the client waits it out, clamped to 100 ms .. 10 s', () => {
    const fromHeader = apiStatusError(429, status(429, 'TooManyRequests', { details: { retryAfterSeconds: 7 } }), { 'retry-after': '2' });
    expect(fromHeader.retryAfterSeconds).toBe(2);
    const fromDetails = apiStatusError(429, status(429, 'TooManyRequests', { details: { retryAfterSeconds: 7 } }));
    expect(fromDetails.retryAfterSeconds).toBe(7);
    expect([retryDelayMs(fromHeader), retryDelayMs(fromDetails)]).toEqual([2_000, 7_000]);
    expect(retryDelayMs(apiStatusError(429, {}, { 'retry-after': '0' }))).toBe(100);
    expect(retryDelayMs(apiStatusError(429, {}, { 'retry-after': '3600' }))).toBe(10_000);
    expect(retryDelayMs(apiStatusError(429, {}))).toBe(1_000);
  });

  test('a body that is not a Status still gives a typed error', () => {
    const error = apiStatusError(502, 'not json');
    expect([error.httpStatus, error.reason, error.message]).toEqual([502, '', 'the API answered 502']);
  });
});

describe('paths', () => {
  test('core and grouped, namespaced and cluster-scoped, subresources, queries', () => {
    expect(resourcePath(refs.pods, 'default', 'p', 'binding')).toBe('/api/v1/namespaces/default/pods/p/binding');
    expect(resourcePath(refs.nodes, undefined, 'n1', 'status')).toBe('/api/v1/nodes/n1/status');
    expect(resourcePath(refs.deployments, 'web')).toBe('/apis/apps/v1/namespaces/web/deployments');
    expect(resourcePath(refs.pods, undefined)).toBe('/api/v1/pods');
    expect(resourcePath(refs.leases, 'kube-system', 'kube-scheduler')).toBe('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler');
    expect(query({ labelSelector: 'app=web,tier in (a,b)', limit: 500, continue: undefined })).toBe('?labelSelector=app%3Dweb%2Ctier+in+%28a%2Cb%29&limit=500');
    expect(query({})).toBe('');
  });
});
