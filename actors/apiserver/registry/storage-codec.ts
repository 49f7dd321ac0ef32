/**
 * How objects live in the store: the key layout, the stored bytes and the list continue token.
 *
 * Decision: keys are `/registry/<resource>/<namespace>/<name>` (cluster-scoped:
 * `/registry/<resource>/<name>`), as the issue asks; no group suffix is needed because no two
 * served resources share a plural name. A resource served in two versions (autoscaling v1 and
 * v2 HPAs) shares one key space, stored as v2; reads convert to the requested version.
 *
 * Decision: the stored JSON has no `metadata.resourceVersion`; it is the key's modRevision and is
 * stamped on every read (as Kubernetes' etcd3 store does), so it can never be stale.
 */
import { apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';
import type { KeyValue } from '../../../store/index.js';
import { apiVersionOf, type ResourceInfo } from './resources.js';
import { hpaToV1, hpaToV2 } from './hpa-conversion.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function objectKey(info: ResourceInfo, namespace: string | null, name: string): string {
  return info.namespaced ? `/registry/${info.resource}/${namespace ?? ''}/${name}` : `/registry/${info.resource}/${name}`;
}

/** The key prefix of a list: one namespace, or the whole resource when namespace is null. */
export function listPrefix(info: ResourceInfo, namespace: string | null): string {
  return info.namespaced && namespace !== null ? `/registry/${info.resource}/${namespace}/` : `/registry/${info.resource}/`;
}

/** The first key after every key that starts with `prefix` (etcd's prefix range end). */
export function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}

/** Name and namespace back from a key, for a delete event whose previous value is unavailable. */
export function parseKey(info: ResourceInfo, key: string): { namespace?: string; name: string } {
  const rest = key.slice(`/registry/${info.resource}/`.length);
  if (!info.namespaced) return { name: rest };
  const slash = rest.indexOf('/');
  return { namespace: rest.slice(0, slash), name: rest.slice(slash + 1) };
}

/** Objects are stored in their storage version: only autoscaling/v1 HPAs differ (hpa-conversion.ts). */
export function encodeObject(object: KubeObject): Uint8Array {
  const stored = object.apiVersion === 'autoscaling/v1' && object.kind === 'HorizontalPodAutoscaler' ? hpaToV2(object) : object;
  const { resourceVersion: _ignored, ...metadata } = stored.metadata;
  return encoder.encode(JSON.stringify({ ...stored, metadata }));
}

/** The stored object with apiVersion, kind and resourceVersion stamped; `revision` overrides the kv's (deletes). */
export function decodeObject(info: ResourceInfo, kv: KeyValue, revision?: number): KubeObject {
  const stored = JSON.parse(decoder.decode(kv.value)) as KubeObject;
  const parsed = info.group === 'autoscaling' && info.version === 'v1' ? hpaToV1(stored) : stored;
  return {
    ...parsed,
    apiVersion: apiVersionOf(info),
    kind: info.kind,
    metadata: { ...parsed.metadata, resourceVersion: String(revision ?? kv.modRevision) },
  };
}

/** What a continue token carries: the revision of the first page and the next key to read. */
export interface ContinueToken {
  readonly revision: number;
  readonly startKey: string;
}

export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ rev: token.revision, start: token.startKey }), 'utf8').toString('base64url');
}

/** A malformed token is a 400; one pointing outside the listed prefix too (it cannot come from us). */
export function decodeContinue(text: string, prefix: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw apiErrors.badRequest('continue key is not valid: not a token this server issued');
  }
  const fields = parsed as { rev?: unknown; start?: unknown } | null;
  if (fields === null || typeof fields !== 'object' || !Number.isSafeInteger(fields.rev) || typeof fields.start !== 'string' || (fields.rev as number) < 1) {
    throw apiErrors.badRequest('continue key is not valid: not a token this server issued');
  }
  if (!fields.start.startsWith(prefix)) throw apiErrors.badRequest('continue key is not valid: it was issued for another list');
  return { revision: fields.rev as number, startKey: fields.start };
}

/** Parses a resourceVersion parameter; 400 for anything but a non-negative integer. */
export function parseResourceVersion(text: string): number {
  if (!/^\d+$/.test(text)) throw apiErrors.badRequest(`invalid resource version: "${text}"`);
  return Number(text);
}
