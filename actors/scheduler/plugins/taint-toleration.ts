/**
 * TaintToleration: NoSchedule and NoExecute taints must be tolerated (filter); untolerated
 * PreferNoSchedule taints lower the score, normalized so the node with the most scores 0.
 */
import type { Toleration } from 'kubernetes-types/core/v1.js';
import { firstUntoleratedTaint, isTolerated } from '../../objects/index.js';
import { failure, normalizeToMax, type FilterPlugin, type ScorePlugin } from '../framework.js';

const name = 'TaintToleration';

export const taintTolerationFilter: FilterPlugin = {
  name,
  prepare(pod) {
    const tolerations = pod.pod.spec?.tolerations;
    return (node) => {
      if (node.taints.length === 0) return undefined;
      const taint = firstUntoleratedTaint(node.taints, tolerations);
      if (taint === undefined) return undefined;
      return failure(name, 'UnschedulableAndUnresolvable', `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
    };
  },
};

export const taintTolerationScore: ScorePlugin = {
  name,
  weight: 3,
  score(pod, nodes) {
    const tolerations: Toleration[] = (pod.pod.spec?.tolerations ?? []).filter((t) => t.effect === undefined || t.effect === '' || t.effect === 'PreferNoSchedule');
    const scores = new Float64Array(nodes.length);
    let any = false;
    nodes.forEach((node, i) => {
      let count = 0;
      for (const taint of node.taints) if (taint.effect === 'PreferNoSchedule' && !isTolerated(taint, tolerations)) count++;
      scores[i] = count;
      if (count > 0) any = true;
    });
    if (!any) return undefined;
    return normalizeToMax(scores, true);
  },
};
