/**
 * NodeAffinity: `spec.nodeSelector` and the required node affinity terms must select the node
 * (filter); preferred terms add their weights (score, normalized so the best node scores 100).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { nodeSelectorMatches, nodeSelectorTermMatches } from '../../objects/index.js';
import { failure, normalizeToMax, skip, type FilterPlugin, type ScorePlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';

const name = 'NodeAffinity';
const mismatch = failure(name, 'UnschedulableAndUnresolvable', "node(s) didn't match Pod's node affinity/selector");

/** Does the node satisfy the pod's nodeSelector and required node affinity? Also used by PodTopologySpread. */
export function requiredNodeAffinityMatches(pod: Pod, node: Pick<NodeInfo, 'name' | 'labels'>): boolean {
  const selector = pod.spec?.nodeSelector;
  if (selector !== undefined) {
    for (const [k, v] of Object.entries(selector)) if (node.labels[k] !== v) return false;
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return required === undefined || nodeSelectorMatches(required, node);
}

export const nodeAffinityFilter: FilterPlugin = {
  name,
  prepare(pod) {
    const spec = pod.pod.spec;
    const hasSelector = spec?.nodeSelector !== undefined && Object.keys(spec.nodeSelector).length > 0;
    if (!hasSelector && spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution === undefined) return skip;
    return (node) => (requiredNodeAffinityMatches(pod.pod, node) ? undefined : mismatch);
  },
};

export const nodeAffinityScore: ScorePlugin = {
  name,
  weight: 2,
  score(pod, nodes) {
    const preferred = pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    if (preferred.length === 0) return undefined;
    const scores = new Float64Array(nodes.length);
    nodes.forEach((node, i) => {
      let sum = 0;
      for (const term of preferred) if (term.weight !== 0 && nodeSelectorTermMatches(term.preference, node)) sum += term.weight;
      scores[i] = sum;
    });
    return normalizeToMax(scores, false);
  },
};
