/**
 * The `pod-template-hash` label: the name suffix of a Deployment's ReplicaSets and the label that
 * keeps their pods apart. As in Kubernetes' ComputeHash: FNV-32a over the template, then the
 * collisionCount's 8 little-endian bytes when set, printed in decimal and mapped onto the safe
 * alphabet of rand.SafeEncodeString (no vowels, no 0/1/3, so it never spells a word).
 *
 * Decision: Kubernetes hashes Go's deep printing of the struct, which no other language reproduces;
 * kubus hashes the template's canonical JSON (keys sorted), so the value is a pure function of the
 * template and identical on every member and across restarts, which is what the label needs.
 */
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';

export const podTemplateHashLabel = 'pod-template-hash';

const safeAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** A field Go's API types cannot tell from an absent one: null, `{}` or `[]` (omitempty; nil and empty compare equal). */
function isEmptyField(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.values(value as Record<string, unknown>).every(isEmptyField);
}

/**
 * JSON with object keys sorted at every level and empty fields dropped: one text per template as
 * Kubernetes' semantic equality sees it (a template that went through `kubectl rollout undo`
 * carries `creationTimestamp: null` and `resources: {}` the API stored without).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => !isEmptyField(v)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let hash = seed;
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export function safeEncode(text: string): string {
  return [...text].map((c) => safeAlphabet[c.charCodeAt(0) % safeAlphabet.length]).join('');
}

export function podTemplateHash(template: PodTemplateSpec | undefined, collisionCount: number | undefined): string {
  let hash = fnv32a(new TextEncoder().encode(canonicalJson(template ?? {})));
  if (collisionCount !== undefined && collisionCount !== 0) {
    const extra = new Uint8Array(8);
    new DataView(extra.buffer).setUint32(0, collisionCount >>> 0, true);
    hash = fnv32a(extra, hash);
  }
  return safeEncode(String(hash));
}

/** The template without the pod-template-hash label (an empty label map dropped), for comparing templates. */
export function withoutHash(template: PodTemplateSpec | undefined): PodTemplateSpec {
  const copy: PodTemplateSpec = structuredClone(template ?? {});
  const labels = copy.metadata?.labels;
  if (labels !== undefined && copy.metadata !== undefined) {
    delete labels[podTemplateHashLabel];
    if (Object.keys(labels).length === 0) delete copy.metadata.labels;
  }
  return copy;
}

/** Kubernetes' EqualIgnoreHash: the same template once the hash label is set aside. */
export function equalIgnoringHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return canonicalJson(withoutHash(a)) === canonicalJson(withoutHash(b));
}
