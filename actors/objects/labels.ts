/**
 * Label selectors, shared by every component: the query-string form (`app=web,tier in (a,b),!canary`)
 * parsed strictly, the structured form (`matchLabels` + `matchExpressions`) of workload specs, and
 * the conversion between them. Matching is pure.
 *
 * Decision: a parse error is a typed LabelSelectorSyntaxError; the API server turns it into a 400
 * BadRequest, a controller into a Warning Event, so neither ever matches everything by mistake.
 */
import { KubusError } from '../../bus/errors.js';

export class LabelSelectorSyntaxError extends KubusError {
  override readonly name = 'LabelSelectorSyntaxError';
  readonly code = 'labelSelectorSyntax';
}

export type LabelRequirement =
  | { readonly key: string; readonly op: 'equals' | 'notEquals'; readonly value: string }
  | { readonly key: string; readonly op: 'in' | 'notIn'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'exists' | 'doesNotExist' }
  | { readonly key: string; readonly op: 'greaterThan' | 'lessThan'; readonly value: number };

export type LabelSelector = readonly LabelRequirement[];

/** Label values and key names are at most 63 characters; a key may have a DNS-subdomain prefix. */
const namePart = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkKey(key: string, selector: string): string {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? null : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  const prefixOk = prefix === null || (prefix.length <= 253 && dnsSubdomain.test(prefix));
  if (!prefixOk || !namePart.test(name)) throw new LabelSelectorSyntaxError(`unable to parse requirement: invalid label key "${key}" in selector "${selector}"`);
  return key;
}

function checkValue(value: string, selector: string): string {
  if (value !== '' && !namePart.test(value)) throw new LabelSelectorSyntaxError(`unable to parse requirement: invalid label value "${value}" in selector "${selector}"`);
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
    if (depth < 0 || depth > 1) throw new LabelSelectorSyntaxError(`unable to parse selector "${selector}": unbalanced parentheses`);
    if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) throw new LabelSelectorSyntaxError(`unable to parse selector "${selector}": unbalanced parentheses`);
  parts.push(text.slice(start));
  return parts;
}

const setForm = /^([^\s!=<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/;
const compareForm = /^([^\s!=<>(),]+)\s*(==|!=|=|<|>)\s*([^\s!=<>(),]*)$/;

function parseRequirement(part: string, selector: string): LabelRequirement {
  const text = part.trim();
  if (text === '') throw new LabelSelectorSyntaxError(`unable to parse selector "${selector}": empty requirement`);
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
      if (raw === '' || !Number.isInteger(value)) throw new LabelSelectorSyntaxError(`unable to parse selector "${selector}": ${op} needs an integer`);
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

/** The structured LabelSelector of a workload's `spec.selector`. */
export interface StructuredLabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>> | undefined;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] | undefined }[] | undefined;
}

/**
 * Does a structured selector select `labels`? An unknown operator selects nothing, as Kubernetes'
 * LabelSelectorAsSelector refuses it; an empty selector selects everything (callers that must not
 * select everything, like workloads, reject it in validation).
 */
export function selectorMatches(selector: StructuredLabelSelector | undefined | null, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (selector === undefined || selector === null || typeof selector !== 'object') return false;
  const have = labels ?? {};
  // Defensive about shape: validation calls this on unvalidated input, which must never throw.
  const matchLabels: unknown = selector.matchLabels ?? {};
  if (typeof matchLabels !== 'object' || matchLabels === null) return false;
  for (const [k, v] of Object.entries(matchLabels)) if (have[k] !== v) return false;
  const expressions: unknown = selector.matchExpressions ?? [];
  if (!Array.isArray(expressions)) return false;
  for (const e of expressions as unknown[]) {
    if (typeof e !== 'object' || e === null) return false;
    const { key, operator, values: rawValues } = e as { key?: unknown; operator?: unknown; values?: unknown };
    if (typeof key !== 'string') return false;
    const has = Object.hasOwn(have, key);
    const value = have[key];
    const values: readonly unknown[] = Array.isArray(rawValues) ? rawValues : [];
    switch (operator) {
      case 'In': if (!has || !values.includes(value)) return false; break;
      case 'NotIn': if (has && values.includes(value)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}
