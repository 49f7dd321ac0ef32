/**
 * Object metadata every component handles the same way: the loose JSON shape of a stored object,
 * its cache key, and its ownerReferences (the controller of an object, adoption, release).
 *
 * Decision: `KubeObject` stays a loose JSON shape (the API server stores what it validated, fields
 * it does not know included); components that read specific fields use the generated types of the
 * `kubernetes-types` package (plain JSON, string timestamps), never hand-written copies.
 */

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** The cache and work-queue key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(object: { readonly metadata?: { readonly namespace?: string | undefined; readonly name?: string | undefined } | undefined }): string {
  const ns = object.metadata?.namespace;
  const name = object.metadata?.name ?? '';
  return ns === undefined || ns === '' ? name : `${ns}/${name}`;
}

/** Splits a key made by objectKey. */
export function splitKey(key: string): { readonly namespace: string | undefined; readonly name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

type WithOwners = { readonly metadata?: { readonly ownerReferences?: readonly OwnerReference[] | undefined } | undefined };

/** The ownerReference with `controller: true`, if any (at most one is allowed). */
export function controllerOf(object: WithOwners): OwnerReference | undefined {
  return object.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}

/** Is `owner` (by uid) an owner of `object`, controller or not? */
export function isOwnedBy(object: WithOwners, ownerUid: string): boolean {
  return (object.metadata?.ownerReferences ?? []).some((ref) => ref.uid === ownerUid);
}

/** The controller reference a controller puts on what it creates or adopts. */
export function controllerRef(owner: { readonly apiVersion?: string | undefined; readonly kind?: string | undefined; readonly metadata?: { readonly name?: string | undefined; readonly uid?: string | undefined } | undefined }): OwnerReference {
  return {
    apiVersion: owner.apiVersion ?? '', kind: owner.kind ?? '', name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '',
    controller: true, blockOwnerDeletion: true,
  };
}

/** Is the object being deleted (a deletionTimestamp is set; finalizers may still hold it)? */
export function isDeleting(object: { readonly metadata?: { readonly deletionTimestamp?: string | undefined } | undefined }): boolean {
  return object.metadata?.deletionTimestamp !== undefined;
}
