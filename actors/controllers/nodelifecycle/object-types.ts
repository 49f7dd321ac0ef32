/**
 * The objects the node controllers read, as informers hold them: the `kubernetes-types` shape
 * joined with the store's loose `KubeObject` (apiVersion, kind and metadata always present).
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../objects/index.js';

export type NodeObject = Node & KubeObject;
export type PodObject = Pod & KubeObject;
export type LeaseObject = Lease & KubeObject;
