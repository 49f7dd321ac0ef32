/**
 * The scheduling decision: a pure function of (pod, snapshot, config). Filter (PreFilter once,
 * then each node from a rotating start until enough feasible nodes are found, as Kubernetes'
 * percentageOfNodesToScore), score the feasible nodes (weighted sum of normalized plugin scores),
 * pick the best; ties go to `config.tieBreak` modulo their count so a replay picks the same node.
 * Unschedulable: the reason of every node (or the PreFilter's), for the FailedScheduling message
 * and for preemption.
 */
import { schedulerLimits } from './limits.js';
import { skip, type FilterFailure, type FilterPlugin, type NodeFilter, type PreFilterFailure, type ScorePlugin } from './framework.js';
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import type { Snapshot } from './snapshot.js';
import { defaultFilters, defaultScorers } from './plugins/index.js';

export interface ScheduleConfig {
  readonly filters: readonly FilterPlugin[];
  readonly scorers: readonly ScorePlugin[];
  /** Kubernetes' percentageOfNodesToScore; 0 is adaptive (50% - nodes/125, at least 5%, at least 100 nodes). */
  readonly percentageOfNodesToScore: number;
  /** Where the node walk starts (the previous decision's `nextStartIndex`), so every node gets its turn. */
  readonly startIndex: number;
  /** Chooses among equally scored nodes (the loop passes a counter). */
  readonly tieBreak: number;
}

export const defaultScheduleConfig: ScheduleConfig = {
  filters: defaultFilters, scorers: defaultScorers, percentageOfNodesToScore: 0, startIndex: 0, tieBreak: 0,
};

export interface Diagnosis {
  readonly numAllNodes: number;
  readonly preFilter?: PreFilterFailure;
  /** Per node name, the first filter that refused it. */
  readonly nodes: ReadonlyMap<string, FilterFailure>;
}

export type ScheduleResult =
  | { readonly node: string; readonly feasibleNodes: number; readonly evaluatedNodes: number; readonly nextStartIndex: number }
  | { readonly unschedulable: Diagnosis; readonly nextStartIndex: number };

export function numFeasibleNodesToFind(allNodes: number, percentage: number): number {
  if (allNodes < schedulerLimits.minFeasibleNodesToFind) return allNodes;
  let p = percentage;
  if (p <= 0) p = Math.max(schedulerLimits.minFeasibleNodesPercentageToFind, 50 - Math.trunc(allNodes / 125));
  const n = Math.trunc((allNodes * p) / 100);
  return Math.max(n, schedulerLimits.minFeasibleNodesToFind);
}

/** The PreFilter step: the per-node filters, or the failure that rules out every node. */
export function prepareFilters(pod: PodInfo, snapshot: Snapshot, plugins: readonly FilterPlugin[]): NodeFilter[] | PreFilterFailure {
  const filters: NodeFilter[] = [];
  for (const plugin of plugins) {
    const prepared = plugin.prepare(pod, snapshot);
    if (prepared === skip) continue;
    if (typeof prepared !== 'function') return prepared;
    filters.push(prepared);
  }
  return filters;
}

/** Runs the filters on one node; nominated pods of at least the pod's priority hold their space (Kubernetes runs filters with them added). */
export function filterNode(filters: readonly NodeFilter[], node: NodeInfo, pod: PodInfo, snapshot: Snapshot): FilterFailure | undefined {
  let target = node;
  const nominated = snapshot.nominatedCount === 0 ? [] : snapshot.nominatedOn(node.name);
  if (nominated.length > 0) {
    const holding = nominated.filter((p) => p.key !== pod.key && p.priority >= pod.priority);
    if (holding.length > 0) {
      target = node.clone();
      for (const p of holding) target.addPod(p);
    }
  }
  for (const filter of filters) {
    const failed = filter(target);
    if (failed !== undefined) return failed;
  }
  return undefined;
}

export function schedule(pod: PodInfo, snapshot: Snapshot, config: ScheduleConfig = defaultScheduleConfig): ScheduleResult {
  const nodes = snapshot.nodes;
  const n = nodes.length;
  const prepared = prepareFilters(pod, snapshot, config.filters);
  if (!Array.isArray(prepared)) return { unschedulable: { numAllNodes: n, preFilter: prepared, nodes: new Map() }, nextStartIndex: config.startIndex };
  if (n === 0) return { unschedulable: { numAllNodes: 0, nodes: new Map() }, nextStartIndex: 0 };
  const want = numFeasibleNodesToFind(n, config.percentageOfNodesToScore);
  const feasible: NodeInfo[] = [];
  const failures = new Map<string, FilterFailure>();
  const start = config.startIndex % n;
  let evaluated = 0;
  for (; evaluated < n && feasible.length < want; evaluated++) {
    const node = nodes[(start + evaluated) % n] as NodeInfo;
    const failed = filterNode(prepared, node, pod, snapshot);
    if (failed === undefined) feasible.push(node);
    else failures.set(node.name, failed);
  }
  const nextStartIndex = (start + evaluated) % n;
  if (feasible.length === 0) return { unschedulable: { numAllNodes: n, nodes: failures }, nextStartIndex };
  const chosen = feasible.length === 1 ? (feasible[0] as NodeInfo) : pickBest(pod, feasible, snapshot, config);
  return { node: chosen.name, feasibleNodes: feasible.length, evaluatedNodes: evaluated, nextStartIndex };
}

/** The weighted sum of every score plugin per node (exported for tests that check a plugin's effect). */
export function scoreNodes(pod: PodInfo, feasible: readonly NodeInfo[], snapshot: Snapshot, scorers: readonly ScorePlugin[]): Float64Array {
  const total = new Float64Array(feasible.length);
  for (const scorer of scorers) {
    const scores = scorer.score(pod, feasible, snapshot);
    if (scores === undefined) continue;
    for (let i = 0; i < total.length; i++) total[i] = (total[i] ?? 0) + (scores[i] ?? 0) * scorer.weight;
  }
  return total;
}

function pickBest(pod: PodInfo, feasible: readonly NodeInfo[], snapshot: Snapshot, config: ScheduleConfig): NodeInfo {
  const total = scoreNodes(pod, feasible, snapshot, config.scorers);
  let best = -Infinity;
  let ties = 0;
  for (const s of total) {
    if (s > best) { best = s; ties = 1; } else if (s === best) ties++;
  }
  let pick = Math.abs(Math.trunc(config.tieBreak)) % ties;
  for (let i = 0; i < total.length; i++) {
    if (total[i] !== best) continue;
    if (pick === 0) return feasible[i] as NodeInfo;
    pick--;
  }
  return feasible[0] as NodeInfo;
}
