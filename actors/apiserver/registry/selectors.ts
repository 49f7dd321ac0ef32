/**
 * Label and field selectors, as `labelSelector=` / `fieldSelector=` query parameters spell them.
 * Parsing is strict (bad syntax is a 400 BadRequest, never a silent match-all) and matching is pure.
 *
 * Decision: a selector parses once into a list of requirements (AND-ed); matching an object is a
 * loop over them. Field selectors only accept the fields Kubernetes indexes for the kind, so that a
 * typo answers `field label not supported` as the real server does.
 */
import { apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';
import type { ResourceInfo } from './resources.js';
import { LabelSelectorSyntaxError, matchLabels, parseLabelSelector as parseLabels, type LabelSelector } from '../../objects/labels.js';

export { matchLabels, formatLabelSelector, type LabelRequirement, type LabelSelector } from '../../objects/labels.js';

/** Parses a `labelSelector=` parameter; bad syntax is a 400 BadRequest, never a match-all. */
export function parseLabelSelector(selector: string | undefined): LabelSelector {
  try {
    return parseLabels(selector);
  } catch (error) {
    if (error instanceof LabelSelectorSyntaxError) throw apiErrors.badRequest(error.message);
    throw error;
  }
}


export interface FieldRequirement {
  readonly field: string;
  readonly op: 'equals' | 'notEquals';
  readonly value: string;
}

export type FieldSelector = readonly FieldRequirement[];

/** The field paths each resource supports, beyond `metadata.name` and `metadata.namespace`. */
const kindFields: Readonly<Record<string, readonly string[]>> = {
  pods: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork',
    'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  events: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion',
    'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
  nodes: ['spec.unschedulable'],
  namespaces: ['status.phase'],
  secrets: ['type'],
  replicasets: ['status.replicas'],
};

export function supportedFields(info: Pick<ResourceInfo, 'resource'>): readonly string[] {
  return ['metadata.name', 'metadata.namespace', ...(kindFields[info.resource] ?? [])];
}

/** Parses `spec.nodeName=n1,status.phase!=Failed`; 400 for bad syntax or an unsupported field. */
export function parseFieldSelector(selector: string | undefined, info: Pick<ResourceInfo, 'resource'>): FieldSelector {
  if (selector === undefined || selector.trim() === '') return [];
  const supported = supportedFields(info);
  return selector.split(',').map((part) => {
    const match = /^\s*([^\s!=]+)\s*(==|!=|=)\s*(.*?)\s*$/.exec(part);
    if (!match) throw apiErrors.badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    const field = match[1] ?? '';
    if (!supported.includes(field)) throw apiErrors.badRequest(`field label not supported: ${field}`);
    return { field, op: match[2] === '!=' ? 'notEquals' : 'equals', value: match[3] ?? '' } satisfies FieldRequirement;
  });
}

/** The selectable value of a field: strings as they are, booleans and numbers printed, absent as ''. */
export function fieldValue(object: KubeObject, field: string): string {
  // Kubernetes selects events by `source` = source.component.
  const path = field === 'source' ? ['source', 'component'] : field.split('.');
  let value: unknown = object;
  for (const step of path) {
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[step] : undefined;
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (field === 'spec.unschedulable' || field === 'spec.hostNetwork') return 'false';
  if (field === 'status.replicas') return '0';
  return '';
}

export function matchFields(selector: FieldSelector, object: KubeObject): boolean {
  return selector.every((r) => (fieldValue(object, r.field) === r.value) === (r.op === 'equals'));
}

/** Both selectors of one request, parsed; `matches` is what list, watch and deletecollection filter with. */
export interface ObjectSelector {
  readonly labels: LabelSelector;
  readonly fields: FieldSelector;
}

export function parseObjectSelector(info: Pick<ResourceInfo, 'resource'>, options: { labelSelector?: string | undefined; fieldSelector?: string | undefined }): ObjectSelector {
  return { labels: parseLabelSelector(options.labelSelector), fields: parseFieldSelector(options.fieldSelector, info) };
}

export function matchesSelector(selector: ObjectSelector, object: KubeObject): boolean {
  return matchLabels(selector.labels, object.metadata.labels) && matchFields(selector.fields, object);
}

export function isEverything(selector: ObjectSelector): boolean {
  return selector.labels.length === 0 && selector.fields.length === 0;
}
