/** The API objects the cloud controllers read and write, as the informers hold them. */
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../objects/meta.js';

export type ServiceObject = KubeObject & Service;
export type NodeObject = KubeObject & Node;
