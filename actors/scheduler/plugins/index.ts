/** The default profile: Kubernetes' filter order (the first failing filter names a node's reason) and score weights. */
import type { FilterPlugin, ScorePlugin } from '../framework.js';
import { interPodAffinityFilter, interPodAffinityScore } from './inter-pod-affinity.js';
import { nodeAffinityFilter, nodeAffinityScore } from './node-affinity.js';
import { nodeName } from './node-name.js';
import { nodePorts } from './node-ports.js';
import { balancedAllocation, leastAllocated, nodeResourcesFit } from './node-resources-fit.js';
import { nodeUnschedulable } from './node-unschedulable.js';
import { podTopologySpreadFilter, podTopologySpreadScore } from './pod-topology-spread.js';
import { taintTolerationFilter, taintTolerationScore } from './taint-toleration.js';
import { volumeBinding } from './volume-binding.js';

export const defaultFilters: readonly FilterPlugin[] = [
  nodeUnschedulable, nodeName, taintTolerationFilter, nodeAffinityFilter, nodePorts, nodeResourcesFit,
  volumeBinding, podTopologySpreadFilter, interPodAffinityFilter,
];

export const defaultScorers: readonly ScorePlugin[] = [
  taintTolerationScore, nodeAffinityScore, podTopologySpreadScore, interPodAffinityScore, leastAllocated, balancedAllocation,
];

export { claimsToAnnotate, selectedNodeAnnotation } from './volume-binding.js';
export { termMatches } from './inter-pod-affinity.js';
