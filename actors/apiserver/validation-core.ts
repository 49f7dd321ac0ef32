/**
 * The building blocks of validation: a collector of FieldCauses with Kubernetes' message wording,
 * typed accessors that report wrong JSON types instead of throwing (validation sees raw client
 * JSON, so any field may hold anything), and the name formats of k8s.io/apimachinery validation.
 */
import type { FieldCause } from './types.js';

export type Obj = Record<string, unknown>;

export const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A value as Go's `%#v`-ish rendering in messages: strings quoted, others as JSON. */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 200 ? `${text.slice(0, 200)}...` : text;
  } catch {
    return String(value);
  }
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Collects causes; field paths are strings like `spec.containers[0].name`. */
export class Causes {
  readonly list: FieldCause[] = [];
  required(field: string, detail?: string): void {
    this.list.push({ reason: 'FieldValueRequired', field, message: detail === undefined ? 'Required value' : `Required value: ${detail}` });
  }
  invalid(field: string, value: unknown, detail: string): void {
    this.list.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${show(value)}: ${detail}` });
  }
  duplicate(field: string, value: unknown): void {
    this.list.push({ reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${show(value)}` });
  }
  forbidden(field: string, detail: string): void {
    this.list.push({ reason: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` });
  }
  notSupported(field: string, value: unknown, supported: readonly string[]): void {
    this.list.push({ reason: 'FieldValueNotSupported', field,
      message: `Unsupported value: ${show(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` });
  }
  tooLong(field: string, max: number): void {
    this.list.push({ reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${max} bytes` });
  }
  typeInvalid(field: string, value: unknown, expected: string): void {
    this.list.push({ reason: 'FieldValueTypeInvalid', field,
      message: `Invalid value: ${show(value)}: ${field} in body must be of type ${expected}: "${typeName(value)}"` });
  }
  /** Kubernetes' FieldValueNotFound is not in our FieldCause reasons; reported as Invalid with its wording. */
  notFound(field: string, value: unknown): void {
    this.list.push({ reason: 'FieldValueInvalid', field, message: `Not found: ${show(value)}` });
  }
  immutable(field: string, value: unknown): void {
    this.invalid(field, value, 'field is immutable');
  }

  // Typed accessors: undefined when absent (or null) or of the wrong type; the latter is reported.
  str(field: string, value: unknown): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') { this.typeInvalid(field, value, 'string'); return undefined; }
    return value;
  }
  int(field: string, value: unknown): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) { this.typeInvalid(field, value, 'integer'); return undefined; }
    return value;
  }
  bool(field: string, value: unknown): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') { this.typeInvalid(field, value, 'boolean'); return undefined; }
    return value;
  }
  obj(field: string, value: unknown): Obj | undefined {
    if (value === undefined || value === null) return undefined;
    if (!isObj(value)) { this.typeInvalid(field, value, 'object'); return undefined; }
    return value;
  }
  arr(field: string, value: unknown): unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value)) { this.typeInvalid(field, value, 'array'); return undefined; }
    return value;
  }
  /** A map of strings (labels, selectors, data): the non-string entries are reported and skipped. */
  stringMap(field: string, value: unknown): Map<string, string> | undefined {
    const map = this.obj(field, value);
    if (map === undefined) return undefined;
    const out = new Map<string, string>();
    for (const [k, v] of Object.entries(map)) {
      const s = this.str(`${field}[${k}]`, v);
      if (s !== undefined) out.set(k, s);
    }
    return out;
  }
  /** Each element of a list that is an object, with its path; other elements are reported. */
  objects(field: string, value: unknown): { item: Obj; path: string; index: number }[] {
    const list = this.arr(field, value);
    if (list === undefined) return [];
    const out: { item: Obj; path: string; index: number }[] = [];
    list.forEach((item, index) => {
      const path = `${field}[${index}]`;
      if (isObj(item)) out.push({ item, path, index });
      else this.typeInvalid(path, item, 'object');
    });
    return out;
  }
  oneOf(field: string, value: string | undefined, supported: readonly string[]): void {
    if (value !== undefined && !supported.includes(value)) this.notSupported(field, value, supported);
  }
}

const label1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const subdomain1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const label1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const qualifiedNamePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const configKey = /^[-._a-zA-Z0-9]+$/;
const ianaSvcName = /^[-a-z0-9]+$/;

/** Each check returns the problems with `value` (empty when valid), worded as Kubernetes does. */
export type NameCheck = (value: string) => string[];

export const dns1123Label: NameCheck = (v) => [
  ...(v.length > 63 ? ['must be no more than 63 characters'] : []),
  ...(label1123.test(v) ? [] : ["a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"]),
];

export const dns1123Subdomain: NameCheck = (v) => [
  ...(v.length > 253 ? ['must be no more than 253 characters'] : []),
  ...(subdomain1123.test(v) ? [] : ["a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]),
];

export const dns1035Label: NameCheck = (v) => [
  ...(v.length > 63 ? ['must be no more than 63 characters'] : []),
  ...(label1035.test(v) ? [] : ["a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]),
];

/** RBAC and other "path segment" names: anything that is safe in a URL path segment. */
export const pathSegmentName: NameCheck = (v) => {
  if (v === '.' || v === '..') return [`may not be '${v}'`];
  const bad = ['/', '%'].filter((c) => v.includes(c));
  return bad.map((c) => `may not contain '${c}'`);
};

/** `prefix/name` keys of labels, annotations and finalizers. */
export const qualifiedName: NameCheck = (v) => {
  const parts = v.split('/');
  let name = v;
  const errors: string[] = [];
  if (parts.length > 2) return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  if (parts.length === 2) {
    const [prefix, rest] = parts as [string, string];
    if (prefix.length === 0) errors.push('prefix part must be non-empty');
    else errors.push(...dns1123Subdomain(prefix).map((e) => `prefix part ${e}`));
    name = rest;
  }
  if (name.length === 0) errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push('name part must be no more than 63 characters');
  else if (!qualifiedNamePart.test(name)) {
    errors.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  }
  return errors;
};

export const labelValueCheck: NameCheck = (v) => [
  ...(v.length > 63 ? ['must be no more than 63 characters'] : []),
  ...(labelValue.test(v) ? [] : ["a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"]),
];

export const configMapKey: NameCheck = (v) => {
  if (v.length > 253) return ['must be no more than 253 characters'];
  if (v === '.' || v === '..' || v.startsWith('..')) return ["must not be '.' or '..' or start with '..'"];
  return configKey.test(v) ? [] : ["a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"];
};

/** Port names (IANA service names): at most 15 characters, lower-case, at least one letter. */
export const portName: NameCheck = (v) => {
  const errors: string[] = [];
  if (v.length > 15) errors.push('must be no more than 15 characters');
  if (!ianaSvcName.test(v)) errors.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (v.includes('--')) errors.push("must not contain consecutive hyphens");
  if (!/[a-z]/.test(v)) errors.push('must contain at least one letter (a-z)');
  if (v.startsWith('-') || v.endsWith('-')) errors.push('must not begin or end with a hyphen');
  return errors;
};

/** Reports each problem `check` finds with a string field. */
export function checkName(causes: Causes, field: string, value: string, check: NameCheck): void {
  for (const problem of check(value)) causes.invalid(field, value, problem);
}

/** Ports are 1..65535. */
export function checkPort(causes: Causes, field: string, value: unknown): void {
  const port = causes.int(field, value);
  if (port !== undefined && (port < 1 || port > 65535)) causes.invalid(field, port, 'must be between 1 and 65535, inclusive');
}

/** Deep equality of JSON values (key order ignored), for immutability checks. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}
