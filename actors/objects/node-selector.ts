/**
 * Node selectors (`nodeSelectorTerms`), as a pod's required node affinity and a PersistentVolume's
 * `spec.nodeAffinity` use them: the terms are ORed, a term's requirements ANDed; `matchExpressions`
 * read the node's labels, `matchFields` its fields (only `metadata.name`, as in Kubernetes).
 *
 * Decision: matching is pure and total on unvalidated input (an unknown operator or a malformed
 * term selects nothing), so the scheduler and the volume binder never place something on a node a
 * selector did not clearly name.
 */
import type { NodeSelector, NodeSelectorRequirement, NodeSelectorTerm } from 'kubernetes-types/core/v1.js';

/** The node as a selector sees it: its name (for matchFields) and its labels. */
export interface SelectableNode {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>> | undefined;
}

/** Does one requirement hold for `value` (undefined when the label or field is absent)? */
export function nodeRequirementMatches(requirement: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In': return value !== undefined && values.includes(value);
    case 'NotIn': return value === undefined || !values.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt':
    case 'Lt': {
      // Kubernetes parses both sides as integers; a non-integer on either side selects nothing.
      const bound = values.length === 1 ? values[0] : undefined;
      if (value === undefined || bound === undefined || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(bound)) return false;
      return requirement.operator === 'Gt' ? Number(value) > Number(bound) : Number(value) < Number(bound);
    }
    default: return false;
  }
}

/** A term selects the node when every requirement holds; an empty term selects nothing. */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, node: SelectableNode): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const labels = node.labels ?? {};
  for (const requirement of expressions) {
    const value = Object.hasOwn(labels, requirement.key) ? labels[requirement.key] : undefined;
    if (!nodeRequirementMatches(requirement, value)) return false;
  }
  for (const requirement of fields) {
    if (requirement.key !== 'metadata.name') return false;
    if (!nodeRequirementMatches(requirement, node.name)) return false;
  }
  return true;
}

/** Does the selector select the node (any term does)? A selector without terms selects nothing. */
export function nodeSelectorMatches(selector: NodeSelector | undefined, node: SelectableNode): boolean {
  if (selector === undefined) return false;
  return (selector.nodeSelectorTerms ?? []).some((term) => nodeSelectorTermMatches(term, node));
}
