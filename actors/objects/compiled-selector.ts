/**
 * A structured label selector compiled once into a matcher function, for callers that test one
 * selector against thousands of label sets per decision (the scheduler's affinity and spread).
 * Same semantics as `selectorMatches` (labels.ts): undefined or null selects nothing, `{}` selects
 * everything, an unknown operator selects nothing; only the per-call shape checks are done once.
 */
import { selectorMatches, type StructuredLabelSelector } from './labels.js';

export type LabelMatcher = (labels: Readonly<Record<string, string>> | undefined) => boolean;

const never: LabelMatcher = () => false;
const compiled = new WeakMap<object, LabelMatcher>();

type Requirement = (labels: Readonly<Record<string, string>>) => boolean;

function requirementOf(e: { readonly key: string; readonly operator: string; readonly values?: readonly string[] | undefined }): Requirement | undefined {
  const key = e.key;
  const values = new Set(e.values ?? []);
  switch (e.operator) {
    case 'In': return (l) => Object.hasOwn(l, key) && values.has(l[key] as string);
    case 'NotIn': return (l) => !Object.hasOwn(l, key) || !values.has(l[key] as string);
    case 'Exists': return (l) => Object.hasOwn(l, key);
    case 'DoesNotExist': return (l) => !Object.hasOwn(l, key);
    default: return undefined;
  }
}

export function compileSelector(selector: StructuredLabelSelector | undefined | null): LabelMatcher {
  if (selector === undefined || selector === null || typeof selector !== 'object') return never;
  const known = compiled.get(selector);
  if (known !== undefined) return known;
  let matcher: LabelMatcher;
  const expressions = selector.matchExpressions ?? [];
  const requirements = Array.isArray(expressions) ? expressions.map(requirementOf) : [undefined];
  if (requirements.some((r) => r === undefined) || typeof (selector.matchLabels ?? {}) !== 'object') {
    // Malformed input keeps the defensive reading of selectorMatches.
    matcher = (labels) => selectorMatches(selector, labels);
  } else {
    const pairs = Object.entries(selector.matchLabels ?? {});
    const checks = requirements as Requirement[];
    matcher = (labels) => {
      const have = labels ?? {};
      for (const [k, v] of pairs) if (have[k] !== v) return false;
      for (const check of checks) if (!check(have)) return false;
      return true;
    };
  }
  compiled.set(selector, matcher);
  return matcher;
}
