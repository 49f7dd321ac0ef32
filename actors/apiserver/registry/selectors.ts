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

export type LabelRequirement =
  | { readonly key: string; readonly op: 'equals' | 'notEquals'; readonly value: string }
  | { readonly key: string; readonly op: 'in' | 'notIn'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'exists' | 'doesNotExist' }
  | { readonly key: string; readonly op: 'greaterThan' | 'lessThan'; readonly value: number };

export type LabelSelector = readonly LabelRequirement[];

export interface FieldRequirement {
  readonly field: string;
  readonly op: 'equals' | 'notEquals';
  readonly value: string;
}

export type FieldSelector = readonly FieldRequirement[];

/** Label values and key names are at most 63 characters; a key may have a DNS-subdomain prefix. */
const namePart = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkKey(key: string, selector: string): string {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? null : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefixOk = prefix === null || (prefix.length <= 253 && dnsSubdomain.test(prefix));
  if (!prefixOk || !namePart.test(name)) throw apiErrors.badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${selector}"`);
  return key;
}

function checkValue(value: string, selector: string): string {
  if (value !== '' && !namePart.test(value)) throw apiErrors.badRequest(`unable to parse requirement: invalid label value "${value}" in selector "${selector}"`);
  return value;
}

/** Splits on commas outside parentheses: `a in (x,y),b` → [`a in (x,y)`, `b`]. */
function splitTopLevel(text: string, selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    if (depth < 0 || depth > 1) throw apiErrors.badRequest(`unable to parse selector "${selector}": unbalanced parentheses`);
    if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw apiErrors.badRequest(`unable to parse selector "${selector}": unbalanced parentheses`);
  parts.push(text.slice(start));
  return parts;
}

const setForm = /^([^\s!=<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/;
const compareForm = /^([^\s!=<>(),]+)\s*(==|!=|=|<|>)\s*([^\s!=<>(),]*)$/;

function parseRequirement(part: string, selector: string): LabelRequirement {
  const text = part.trim();
  if (text === '') throw apiErrors.badRequest(`unable to parse selector "${selector}": empty requirement`);
  if (text.startsWith('!')) return { key: checkKey(text.slice(1).trim(), selector), op: 'doesNotExist' };
  const set = setForm.exec(text);
  if (set) {
    const values = (set[3] ?? '').split(',').map((v) => checkValue(v.trim(), selector));
    return { key: checkKey(set[1] ?? '', selector), op: set[2] === 'in' ? 'in' : 'notIn', values };
  }
  const compare = compareForm.exec(text);
  if (compare) {
    const key = checkKey(compare[1] ?? '', selector);
    const op = compare[2];
    const raw = compare[3] ?? '';
    if (op === '<' || op === '>') {
      const value = Number(raw);
      if (raw === '' || !Number.isInteger(value)) throw apiErrors.badRequest(`unable to parse selector "${selector}": ${op} needs an integer`);
      return { key, op: op === '<' ? 'lessThan' : 'greaterThan', value };
    }
    return { key, op: op === '!=' ? 'notEquals' : 'equals', value: checkValue(raw, selector) };
  }
  return { key: checkKey(text, selector), op: 'exists' };
}

/** Parses `app=web,tier in (a,b),!canary`; an empty or absent selector matches everything. */
export function parseLabelSelector(selector: string | undefined): LabelSelector {
  if (selector === undefined || selector.trim() === '') return [];
  return splitTopLevel(selector, selector).map((part) => parseRequirement(part, selector));
}

export function matchLabels(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const have = labels ?? {};
  return selector.every((r) => {
    const value = Object.hasOwn(have, r.key) ? have[r.key] : undefined;
    switch (r.op) {
      case 'equals': return value === r.value;
      case 'notEquals': return value !== r.value;
      case 'in': return value !== undefined && r.values.includes(value);
      case 'notIn': return value === undefined || !r.values.includes(value);
      case 'exists': return value !== undefined;
      case 'doesNotExist': return value === undefined;
      case 'greaterThan': return value !== undefined && /^-?\d+$/.test(value) && Number(value) > r.value;
      case 'lessThan': return value !== undefined && /^-?\d+$/.test(value) && Number(value) < r.value;
    }
  });
}

/** A structured `LabelSelector` (deployment `spec.selector`) as the query-string form (scale's `status.selector`). */
export function formatLabelSelector(selector: {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[];
} | undefined): string {
  if (selector === undefined) return '';
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.sort().join(',');
}

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
