/**
 * PodTopologySpread: for each DoNotSchedule constraint, placing the pod in the node's domain must
 * keep `count + self - min over domains <= maxSkew` (min is 0 while fewer than minDomains domains
 * exist); a node without every constraint's topology key never fits. ScheduleAnyway constraints
 * score: fewer matching pods in the node's domain scores higher (Kubernetes' weighting by
 * log(domains + 2) and its normalization).
 *
 * Which nodes count as domains follows nodeAffinityPolicy (Honor by default: only nodes the pod's
 * node affinity selects) and nodeTaintsPolicy (Ignore by default).
 */
import type { TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { firstUntoleratedTaint, isDeleting, selectorMatches, type StructuredLabelSelector } from '../../objects/index.js';
import { failure, maxNodeScore, skip, type FilterPlugin, type ScorePlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { PodInfo } from '../pod-info.js';
import type { Snapshot } from '../snapshot.js';
import { requiredNodeAffinityMatches } from './node-affinity.js';

const name = 'PodTopologySpread';
const missingLabel = failure(name, 'UnschedulableAndUnresolvable', "node(s) didn't match pod topology spread constraints (missing required label)");
const skewed = failure(name, 'Unschedulable', "node(s) didn't match pod topology spread constraints");

interface Constraint {
  readonly key: string;
  readonly maxSkew: number;
  readonly minDomains: number;
  readonly selector: StructuredLabelSelector | undefined;
  readonly selfMatch: number;
  readonly honorAffinity: boolean;
  readonly honorTaints: boolean;
}

function constraintsOf(pod: PodInfo, when: 'DoNotSchedule' | 'ScheduleAnyway'): Constraint[] {
  return (pod.pod.spec?.topologySpreadConstraints ?? []).filter((c) => c.whenUnsatisfiable === when).map((c: TopologySpreadConstraint) => {
    let selector: StructuredLabelSelector | undefined = c.labelSelector ?? undefined;
    const keys = c.matchLabelKeys ?? [];
    if (selector !== undefined && keys.length > 0) {
      const extra: Record<string, string> = {};
      for (const key of keys) { const value = pod.labels[key]; if (value !== undefined) extra[key] = value; }
      selector = { ...selector, matchLabels: { ...(selector.matchLabels ?? {}), ...extra } };
    }
    return {
      key: c.topologyKey, maxSkew: c.maxSkew, minDomains: c.minDomains ?? 1, selector,
      selfMatch: selector !== undefined && selectorMatches(selector, pod.labels) ? 1 : 0,
      honorAffinity: c.nodeAffinityPolicy !== 'Ignore', honorTaints: c.nodeTaintsPolicy === 'Honor',
    };
  });
}

function hasAllKeys(node: NodeInfo, constraints: readonly Constraint[]): boolean {
  for (const c of constraints) if (node.labels[c.key] === undefined) return false;
  return true;
}

/**
 * Per constraint: domain value → matching pods, over the nodes that count as domains. Fast path
 * (the pod has no node affinity or selector and no constraint honours taints): a node counts when
 * it has every key, and the domains come memoized from the snapshot.
 */
function domainCounts(pod: PodInfo, constraints: readonly Constraint[], snapshot: Snapshot): Map<string, number>[] {
  const spec = pod.pod.spec;
  const simple = !constraints.some((c) => c.honorTaints) &&
    (!constraints.some((c) => c.honorAffinity) || (spec?.nodeSelector === undefined && spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution === undefined));
  const counts = constraints.map(() => new Map<string, number>());
  let eligible: Set<NodeInfo>[] | undefined;
  if (simple) {
    const domains = snapshot.domains(constraints.map((c) => c.key));
    constraints.forEach((c, i) => { for (const value of domains.get(c.key) ?? []) (counts[i] as Map<string, number>).set(value, 0); });
  } else {
    const sets = constraints.map(() => new Set<NodeInfo>());
    eligible = sets;
    for (const node of snapshot.nodes) {
      if (!hasAllKeys(node, constraints)) continue;
      constraints.forEach((c, i) => {
        if (c.honorAffinity && !requiredNodeAffinityMatches(pod.pod, node)) return;
        if (c.honorTaints && firstUntoleratedTaint(node.taints, pod.pod.spec?.tolerations) !== undefined) return;
        const map = counts[i] as Map<string, number>;
        const value = node.labels[c.key] as string;
        if (!map.has(value)) map.set(value, 0);
        (sets[i] as Set<NodeInfo>).add(node);
      });
    }
  }
  const ownNamespace = new Set([pod.namespace]);
  constraints.forEach((c, i) => {
    const map = counts[i] as Map<string, number>;
    snapshot.podIndex.forEachMatching({ namespaces: ownNamespace, namespaceSelector: undefined, selector: c.selector }, () => false, (other, node) => {
      if (isDeleting(other.pod)) return;
      if (eligible === undefined ? !hasAllKeys(node, constraints) : !(eligible[i] as Set<NodeInfo>).has(node)) return;
      const value = node.labels[c.key] as string;
      map.set(value, (map.get(value) ?? 0) + 1);
    });
  });
  return counts;
}

export const podTopologySpreadFilter: FilterPlugin = {
  name,
  prepare(pod, snapshot: Snapshot) {
    const constraints = constraintsOf(pod, 'DoNotSchedule');
    if (constraints.length === 0) return skip;
    const counts = domainCounts(pod, constraints, snapshot);
    const minimum = constraints.map((c, i) => {
      const map = counts[i] as Map<string, number>;
      if (map.size < c.minDomains) return 0;
      let min = Infinity;
      for (const n of map.values()) min = Math.min(min, n);
      return min === Infinity ? 0 : min;
    });
    return (node) => {
      if (!hasAllKeys(node, constraints)) return missingLabel;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i] as Constraint;
        const matchNum = (counts[i] as Map<string, number>).get(node.labels[c.key] as string) ?? 0;
        if (matchNum + c.selfMatch - (minimum[i] ?? 0) > c.maxSkew) return skewed;
      }
      return undefined;
    };
  },
};

export const podTopologySpreadScore: ScorePlugin = {
  name,
  weight: 2,
  score(pod, nodes, snapshot) {
    const constraints = constraintsOf(pod, 'ScheduleAnyway');
    if (constraints.length === 0) return undefined;
    const counts = domainCounts(pod, constraints, snapshot);
    const weights = counts.map((m) => Math.log(m.size + 2));
    const raw = new Float64Array(nodes.length);
    const ignored = new Uint8Array(nodes.length);
    let min = Infinity;
    let max = 0;
    nodes.forEach((node, i) => {
      if (!hasAllKeys(node, constraints)) { ignored[i] = 1; return; }
      let s = 0;
      constraints.forEach((c, j) => {
        s += ((counts[j] as Map<string, number>).get(node.labels[c.key] as string) ?? 0) * (weights[j] ?? 1) + (c.maxSkew - 1);
      });
      s = Math.round(s);
      raw[i] = s;
      min = Math.min(min, s);
      max = Math.max(max, s);
    });
    const scores = new Float64Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) {
      if (ignored[i] === 1) continue;
      scores[i] = max === 0 ? maxNodeScore : Math.trunc((maxNodeScore * (max + min - (raw[i] ?? 0))) / max);
    }
    return scores;
  },
};
