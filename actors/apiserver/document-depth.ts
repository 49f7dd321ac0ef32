/**
 * Nesting depth of request documents, measured before they are composed into objects: a 12 KB
 * YAML body nested 2,000 levels ran a member out of memory, and a deep JSON body overflowed the
 * stack in the recursive code after parsing (defaulting, validation, merge, JSON.stringify).
 *
 * Decision: JSON is scanned as text (brackets outside strings), in one pass with no recursion and
 * no allocation. YAML is lexed and parsed to its concrete syntax tree by the `yaml` library's
 * Parser, which keeps an explicit stack (no recursion), and the tree is walked with a stack of
 * our own; only a document within the bound is then composed (the composer recurses). This
 * costs a second parse of YAML bodies, which are rare (kubectl and the clients send JSON).
 *
 * Decision: the bound (documentLimits.nestingDepthMax, 100) is far above any Kubernetes object
 * kubus serves (a Deployment's deepest field is ~12 levels) and far below where the composer or
 * our recursive code run out of stack (~700 levels for the `yaml` composer on Node 20).
 * Kubernetes relies on Go decoders whose depth bounds are in the thousands, which Go's growable
 * stacks survive; JavaScript's fixed stack and the recursive code after parsing do not.
 */
import { Parser } from 'yaml';

export const documentLimits = {
  /** Deepest nesting of objects and arrays accepted in a request body (JSON, YAML, patches). */
  nestingDepthMax: 100,
} as const;

/** The deepest nesting of `{`/`[` in JSON text, ignoring brackets inside strings; stops counting past `stopAbove`. */
export function jsonNestingDepth(text: string, stopAbove = Number.MAX_SAFE_INTEGER): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > stopAbove) return deepest;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

interface CstNode {
  readonly type?: string;
  readonly value?: unknown;
  readonly key?: unknown;
  readonly items?: readonly { readonly key?: unknown; readonly value?: unknown }[];
}

const collectionTypes = new Set(['block-map', 'block-seq', 'flow-collection']);

/** The deepest nesting of collections in YAML text (all documents); stops counting past `stopAbove`. */
export function yamlNestingDepth(text: string, stopAbove = Number.MAX_SAFE_INTEGER): number {
  let deepest = 0;
  for (const token of new Parser().parse(text)) {
    const stack: { node: unknown; depth: number }[] = [{ node: (token as CstNode).value, depth: 0 }];
    while (stack.length > 0) {
      const { node, depth } = stack.pop() as { node: unknown; depth: number };
      if (typeof node !== 'object' || node === null) continue;
      const cst = node as CstNode;
      if (cst.type === undefined || !collectionTypes.has(cst.type)) continue;
      const inner = depth + 1;
      if (inner > deepest) deepest = inner;
      if (deepest > stopAbove) return deepest;
      for (const item of cst.items ?? []) {
        stack.push({ node: item.key, depth: inner }, { node: item.value, depth: inner });
      }
    }
  }
  return deepest;
}

/** Throws `tooDeep(depth)` when `text` nests deeper than the bound; `yaml` selects the YAML measure. */
export function checkNestingDepth(text: string, syntax: 'json' | 'yaml', tooDeep: (limit: number) => Error): void {
  const limit = documentLimits.nestingDepthMax;
  const depth = syntax === 'json' ? jsonNestingDepth(text, limit) : yamlNestingDepth(text, limit);
  if (depth > limit) throw tooDeep(limit);
}
