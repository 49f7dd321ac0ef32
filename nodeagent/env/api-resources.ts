/**
 * The core resources the node agent's env and volume parts read or write through the API.
 *
 * Decision: spelled here rather than taken from `actors/controllers/runtime/resource-refs.ts`,
 * which loads the API server's resource table: the node agent imports only types from `actors`
 * (STYLE rule 10) except the object helpers of `actors/objects`.
 */
import type { ResourceRef } from '../../actors/controllers/runtime/types.js';

function core(resource: string, namespaced: boolean): ResourceRef {
  return { group: '', version: 'v1', resource, namespaced };
}

export const coreResources = {
  configmaps: core('configmaps', true),
  secrets: core('secrets', true),
  services: core('services', true),
  serviceaccounts: core('serviceaccounts', true),
  persistentvolumeclaims: core('persistentvolumeclaims', true),
  persistentvolumes: core('persistentvolumes', false),
  nodes: core('nodes', false),
  events: core('events', true),
} as const satisfies Record<string, ResourceRef>;

/** The API answered 404 (typed ApiStatusError code; compared structurally to keep the import a type). */
export function isNotFoundError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'notFound';
}

export function isForbiddenError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'forbidden';
}

/**
 * The API answered this request for good (a 4xx other than 429): the object is missing, the
 * request is refused or invalid. Anything else (no answer, a timeout, 429, 5xx) may pass, and a
 * node keeps using what it last knew (offline operation).
 */
export function isApiAnswer(error: unknown): boolean {
  const status = typeof error === 'object' && error !== null ? (error as { httpStatus?: unknown }).httpStatus : undefined;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 429;
}
