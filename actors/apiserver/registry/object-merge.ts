/**
 * What an update may change: the "strategy" half of Kubernetes' registry, as pure functions.
 *
 * - Server-owned metadata (uid, creationTimestamp, name, namespace, deletion fields) is kept from
 *   the stored object whatever the client sends.
 * - A resource with a `status` subresource keeps its stored `.status` on a main-resource write,
 *   and a write to `/status` changes only `.status`.
 * - `metadata.generation` counts changes to everything but metadata and status (the spec, and the
 *   top-level data of kinds without a spec).
 */
import type { KubeObject, ObjectMeta } from '../types.js';
import type { ResourceInfo } from './resources.js';
import { apiErrors } from '../status.js';

/** Structural equality of JSON values, independent of key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => jsonEqual(ra[k], rb[k]));
}

/** The object without metadata, status, apiVersion and kind: what generation counts. */
function body(object: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = object;
  return rest;
}

export function specChanged(before: KubeObject, after: KubeObject): boolean {
  return !jsonEqual(body(before), body(after));
}

/** Equal apart from resourceVersion: such an update is a no-op and is not written. */
export function sameStoredState(a: KubeObject, b: KubeObject): boolean {
  const { resourceVersion: _ra, ...ma } = a.metadata;
  const { resourceVersion: _rb, ...mb } = b.metadata;
  return jsonEqual({ ...a, metadata: ma }, { ...b, metadata: mb });
}

const serverOwned = ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds'] as const;

function keepServerMetadata(current: ObjectMeta, incoming: ObjectMeta): ObjectMeta {
  const metadata: Record<string, unknown> = { ...incoming };
  for (const field of serverOwned) {
    if (current[field] === undefined) delete metadata[field];
    else metadata[field] = current[field];
  }
  return metadata as ObjectMeta;
}

/**
 * The object an update stores, from the stored one and the one the client (or a patch) produced.
 * `subresource` is `'status'` for writes to `/status`, null for the main resource.
 */
export function mergeForUpdate(info: ResourceInfo, current: KubeObject, incoming: KubeObject, subresource: 'status' | null): KubeObject {
  // A status write naming another object's uid (a status queued for a pod since replaced by one of the same
  // name) is refused, as Kubernetes does, instead of landing on the newer object.
  const incomingUid = incoming.metadata?.uid;
  if (subresource === 'status' && typeof incomingUid === 'string' && incomingUid !== '' && current.metadata.uid !== undefined && incomingUid !== current.metadata.uid) {
    throw apiErrors.conflict(info.resource, info.group, current.metadata.name ?? '', `Precondition failed: UID in precondition: ${incomingUid}, UID in object meta: ${current.metadata.uid}`);
  }
  if (subresource === 'status') {
    const next: KubeObject = { ...structuredClone(current), metadata: structuredClone(current.metadata) };
    if (incoming['status'] === undefined) delete next['status'];
    else next['status'] = structuredClone(incoming['status']);
    return next;
  }
  const next: KubeObject = { ...structuredClone(incoming), apiVersion: current.apiVersion, kind: current.kind };
  next.metadata = keepServerMetadata(current.metadata, structuredClone(incoming.metadata ?? {}));
  if (info.subresources.includes('status')) {
    if (current['status'] === undefined) delete next['status'];
    else next['status'] = structuredClone(current['status']);
  }
  const generation = current.metadata.generation ?? 1;
  next.metadata.generation = specChanged(current, next) ? generation + 1 : generation;
  return next;
}

/** A write that leaves a deleting object without finalizers completes the deletion. */
export function deletionComplete(object: KubeObject): boolean {
  return object.metadata.deletionTimestamp !== undefined && (object.metadata.finalizers ?? []).length === 0;
}
