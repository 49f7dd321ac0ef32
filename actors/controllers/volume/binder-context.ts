/**
 * What the binder's sync functions share: the informers it reads and the provisioners it runs.
 * Object types are the kubernetes-types shapes joined with the stored-object shape informers hold.
 */
import type { Node, PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { KubeObject } from '../../objects/index.js';
import { refs } from '../runtime/resource-refs.js';
import type { ControllerContext, Informer } from '../runtime/types.js';
import type { Provisioner } from './provisioner.js';

export type StoredClaim = PersistentVolumeClaim & KubeObject;
export type StoredVolume = PersistentVolume & KubeObject;
export type StoredClass = StorageClass & KubeObject;
export type StoredNode = Node & KubeObject;

export interface BinderInformers {
  readonly claims: Informer<StoredClaim>;
  readonly volumes: Informer<StoredVolume>;
  readonly classes: Informer<StoredClass>;
  readonly nodes: Informer<StoredNode>;
}

export function binderInformers(ctx: ControllerContext): BinderInformers {
  return {
    claims: ctx.informers.informer<StoredClaim>(refs.persistentvolumeclaims),
    volumes: ctx.informers.informer<StoredVolume>(refs.persistentvolumes),
    classes: ctx.informers.informer<StoredClass>(refs.storageclasses),
    nodes: ctx.informers.informer<StoredNode>(refs.nodes),
  };
}

export interface BinderDeps {
  /** The provisioners this process runs, by name; classes naming others wait for an external one. */
  readonly provisioners: ReadonlyMap<string, Provisioner>;
}

/** Claims not yet bound, by the class they ask for: what a new or freed volume may serve. */
export const unboundByClassIndex = 'volume-binder.unboundClass';
/** Volumes by the claim (`namespace/name`) their claimRef names. */
export const volumesByClaimIndex = 'volume-binder.claim';
