/**
 * Store watch events → Kubernetes watch events, with selector transitions as Kubernetes makes them:
 * an object that starts matching the selector is ADDED, one that stops matching is DELETED, so a
 * client's cache of "objects matching" stays exact.
 */
import type { KubeObject } from '../types.js';
import type { WatchEvent } from '../../../store/index.js';
import { decodeObject, parseKey } from './storage-codec.js';
import type { ResourceInfo } from './resources.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ObjectWatchEvent {
  readonly type: WatchEventType;
  readonly object: unknown;
}

/** The event a client sees for one store change, or null when neither version matches. */
export function translateWatchEvent(info: ResourceInfo, event: WatchEvent, matches: (object: KubeObject) => boolean): ObjectWatchEvent | null {
  if (event.type === 'delete') {
    // The DELETED event carries the last state with the deletion's revision.
    const last = event.prevKv !== null ? decodeObject(info, event.prevKv, event.kv.modRevision) : tombstone(info, event.kv.key, event.kv.modRevision);
    return event.prevKv === null || matches(last) ? { type: 'DELETED', object: last } : null;
  }
  const object = decodeObject(info, event.kv);
  const isNew = event.kv.version === 1 || event.prevKv === null;
  const matchesNow = matches(object);
  if (isNew) return matchesNow ? { type: 'ADDED', object } : null;
  const matchedBefore = matches(decodeObject(info, event.prevKv as NonNullable<WatchEvent['prevKv']>));
  if (matchesNow && matchedBefore) return { type: 'MODIFIED', object };
  if (matchesNow) return { type: 'ADDED', object };
  if (matchedBefore) return { type: 'DELETED', object };
  return null;
}

/** A delete whose previous value the store could not give (should not happen with prevKv on). */
function tombstone(info: ResourceInfo, key: string, revision: number): KubeObject {
  const { namespace, name } = parseKey(info, key);
  return {
    apiVersion: info.group === '' ? info.version : `${info.group}/${info.version}`,
    kind: info.kind,
    metadata: { name, ...(namespace !== undefined ? { namespace } : {}), resourceVersion: String(revision) },
  };
}

export function bookmarkEvent(info: ResourceInfo, revision: number, initialEventsEnd = false): ObjectWatchEvent {
  return {
    type: 'BOOKMARK',
    object: {
      apiVersion: info.group === '' ? info.version : `${info.group}/${info.version}`,
      kind: info.kind,
      metadata: { resourceVersion: String(revision), ...(initialEventsEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}) },
    },
  };
}
