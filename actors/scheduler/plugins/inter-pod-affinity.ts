/**
 * InterPodAffinity: required pod affinity (some matching pod in the node's topology domain, or the
 * pod is the first of a series that matches its own terms), required anti-affinity (no matching
 * pod in the domain), and the anti-affinity of pods already placed (the new pod must not land in a
 * domain whose pods refuse it). Preferred terms of both sides score, normalized min-max.
 *
 * Counts are per topology pair (`key`, node label value), computed once per pod in `prepare` from
 * the pod index (the placed pods a term selects; placed pods' terms aggregated by identical term),
 * then each node's filter is a few map lookups.
 */
import { compileSelector } from '../../objects/index.js';
import { failure, maxNodeScore, skip, type FilterPlugin, type ScorePlugin } from '../framework.js';
import type { NodeInfo } from '../node-info.js';
import type { AffinityTerm, PodInfo } from '../pod-info.js';
import type { Snapshot } from '../snapshot.js';

const name = 'InterPodAffinity';
const affinityMismatch = failure(name, 'UnschedulableAndUnresolvable', "node(s) didn't match pod affinity rules");
const antiAffinityMismatch = failure(name, 'Unschedulable', "node(s) didn't match pod anti-affinity rules");
const existingAntiAffinityMismatch = failure(name, 'Unschedulable', "node(s) didn't satisfy existing pods anti-affinity rules");

/** Kubernetes' hardPodAffinityWeight default: what an existing pod's required affinity to the new pod adds to a score. */
const hardPodAffinityWeight = 1;

/** Does the term select the pod (namespace and label selector)? A term without a selector selects nothing. */
export function termMatches(term: AffinityTerm, pod: PodInfo, snapshot: Snapshot): boolean {
  const inNamespace = term.namespaces.has(pod.namespace) ||
    (term.namespaceSelector !== undefined && compileSelector(term.namespaceSelector)(snapshot.namespaceLabels(pod.namespace)));
  return inNamespace && compileSelector(term.selector)(pod.labels);
}

/** Calls `visit` for each placed pod the term selects, with its node. */
function forEachPlaced(term: AffinityTerm, snapshot: Snapshot, visit: (other: PodInfo, node: NodeInfo) => void): void {
  const namespaceMatches = (ns: string): boolean => term.namespaceSelector !== undefined && compileSelector(term.namespaceSelector)(snapshot.namespaceLabels(ns));
  snapshot.podIndex.forEachMatching(term, namespaceMatches, visit);
}

/** key → value → count */
type TopologyCounts = Map<string, Map<string, number>>;

function bump(counts: TopologyCounts, key: string, value: string | undefined, by: number): void {
  if (value === undefined) return;
  let values = counts.get(key);
  if (values === undefined) counts.set(key, (values = new Map()));
  values.set(value, (values.get(value) ?? 0) + by);
}

function countAt(counts: TopologyCounts, key: string, node: NodeInfo): number {
  const value = node.labels[key];
  return value === undefined ? 0 : counts.get(key)?.get(value) ?? 0;
}

function matchesAll(terms: readonly AffinityTerm[], pod: PodInfo, snapshot: Snapshot): boolean {
  return terms.every((t) => termMatches(t, pod, snapshot));
}

export const interPodAffinityFilter: FilterPlugin = {
  name,
  prepare(pod, snapshot) {
    const existingAnti: TopologyCounts = new Map();
    for (const entry of snapshot.podIndex.indexedTerms()) {
      if (entry.kind !== 'requiredAntiAffinity' || !termMatches(entry.term, pod, snapshot)) continue;
      for (const [value, count] of entry.counts) bump(existingAnti, entry.term.topologyKey, value, count);
    }
    const needAll = pod.requiredAffinity.length > 0 || pod.requiredAntiAffinity.length > 0;
    if (!needAll && existingAnti.size === 0) return skip;
    const affinity: TopologyCounts = new Map();
    const [firstAffinity, ...otherAffinity] = pod.requiredAffinity;
    if (firstAffinity !== undefined) {
      forEachPlaced(firstAffinity, snapshot, (other, node) => {
        if (!matchesAll(otherAffinity, other, snapshot)) return;
        for (const term of pod.requiredAffinity) bump(affinity, term.topologyKey, node.labels[term.topologyKey], 1);
      });
    }
    const anti: TopologyCounts[] = pod.requiredAntiAffinity.map((term) => {
      const counts: TopologyCounts = new Map();
      forEachPlaced(term, snapshot, (_other, node) => bump(counts, term.topologyKey, node.labels[term.topologyKey], 1));
      return counts;
    });
    const firstOfSeries = affinity.size === 0 && matchesAll(pod.requiredAffinity, pod, snapshot);
    return (node) => {
      if (pod.requiredAffinity.length > 0) {
        let podsExist = true;
        for (const term of pod.requiredAffinity) {
          if (node.labels[term.topologyKey] === undefined) return affinityMismatch;
          if (countAt(affinity, term.topologyKey, node) <= 0) podsExist = false;
        }
        if (!podsExist && !firstOfSeries) return affinityMismatch;
      }
      for (let i = 0; i < pod.requiredAntiAffinity.length; i++) {
        const term = pod.requiredAntiAffinity[i] as AffinityTerm;
        if (countAt(anti[i] as TopologyCounts, term.topologyKey, node) > 0) return antiAffinityMismatch;
      }
      for (const [key, values] of existingAnti) {
        const value = node.labels[key];
        if (value !== undefined && (values.get(value) ?? 0) > 0) return existingAntiAffinityMismatch;
      }
      return undefined;
    };
  },
};

export const interPodAffinityScore: ScorePlugin = {
  name,
  weight: 2,
  score(pod, nodes, snapshot) {
    const weights: TopologyCounts = new Map();
    let any = false;
    const own = (terms: readonly AffinityTerm[], sign: number): void => {
      for (const term of terms) {
        forEachPlaced(term, snapshot, (_other, node) => { bump(weights, term.topologyKey, node.labels[term.topologyKey], sign * term.weight); any = true; });
      }
    };
    own(pod.preferredAffinity, 1);
    own(pod.preferredAntiAffinity, -1);
    for (const entry of snapshot.podIndex.indexedTerms()) {
      if (entry.kind === 'requiredAntiAffinity' || entry.counts.size === 0 || !termMatches(entry.term, pod, snapshot)) continue;
      const weight = entry.kind === 'requiredAffinity' ? hardPodAffinityWeight : entry.kind === 'preferredAffinity' ? entry.term.weight : -entry.term.weight;
      for (const [value, count] of entry.counts) bump(weights, entry.term.topologyKey, value, weight * count);
      any = true;
    }
    if (!any) return undefined;
    const scores = new Float64Array(nodes.length);
    let min = Infinity;
    let max = -Infinity;
    nodes.forEach((node, i) => {
      let sum = 0;
      for (const [key, values] of weights) {
        const value = node.labels[key];
        if (value !== undefined) sum += values.get(value) ?? 0;
      }
      scores[i] = sum;
      min = Math.min(min, sum);
      max = Math.max(max, sum);
    });
    const spread = max - min;
    for (let i = 0; i < scores.length; i++) scores[i] = spread > 0 ? Math.trunc((maxNodeScore * ((scores[i] ?? 0) - min)) / spread) : 0;
    return scores;
  },
};
