/**
 * Preemption (Kubernetes' DefaultPreemption PostFilter), pure: given a pod no node fits and the
 * diagnosis of why, find the node where deleting the fewest and least important lower-priority
 * pods makes it fit, or say (in Kubernetes' words) why preemption cannot help.
 *
 * Per candidate node: remove every lower-priority pod; if the pod still does not fit, the node is
 * out; else put victims back one by one, most important first (those whose eviction would break a
 * PodDisruptionBudget before the others), keeping each one that still lets the pod fit. Among the
 * candidates, Kubernetes' pickOneNodeForPreemption order: fewest PDB violations, lowest
 * highest-victim priority, lowest sum of priorities, fewest victims, latest start of the most
 * important victim, then the first.
 */
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { isDeleting, selectorMatches } from '../objects/index.js';
import type { FilterFailure, FilterPlugin } from './framework.js';
import { fitErrorMessage } from './failure-message.js';
import { schedulerLimits } from './limits.js';
import type { NodeInfo } from './node-info.js';
import { PodIndex } from './pod-index.js';
import type { PodInfo } from './pod-info.js';
import { filterNode, prepareFilters, type Diagnosis } from './schedule.js';
import type { Snapshot } from './snapshot.js';

export type PreemptionResult =
  | { readonly node: string; readonly victims: readonly PodInfo[]; readonly pdbViolations: number }
  /** No candidate: the PostFilter part of the FailedScheduling message (`preemption: ...`). */
  | { readonly message: string };

const notHelpful = { reasons: ['Preemption is not helpful for scheduling'] };
const noVictims = { reasons: ['No preemption victims found for incoming pod'] };

/** A snapshot with one node replaced, for what-if filtering. */
function overlay(snapshot: Snapshot, replaced: NodeInfo): Snapshot {
  const nodes = snapshot.nodes.map((n) => (n.name === replaced.name ? replaced : n));
  let index: PodIndex | undefined;
  return {
    get podIndex() { return (index ??= PodIndex.of(nodes)); },
    nodes,
    node: (name) => (name === replaced.name ? replaced : snapshot.node(name)),
    claim: (ns, name) => snapshot.claim(ns, name),
    volume: (name) => snapshot.volume(name),
    storageClass: (name) => snapshot.storageClass(name),
    namespaceLabels: (name) => snapshot.namespaceLabels(name),
    nominatedOn: (name) => snapshot.nominatedOn(name),
    get nominatedCount() { return snapshot.nominatedCount; },
    domains: (keys) => snapshot.domains(keys), // node labels are the same in the what-if
  };
}

function fits(pod: PodInfo, node: NodeInfo, snapshot: Snapshot, filters: readonly FilterPlugin[]): FilterFailure | undefined {
  const view = overlay(snapshot, node);
  const prepared = prepareFilters(pod, view, filters);
  if (!Array.isArray(prepared)) return { plugin: prepared.plugin, code: prepared.code, reasons: [prepared.message] };
  return filterNode(prepared, node, pod, view);
}

function startMs(pod: PodInfo): number {
  const t = Date.parse(pod.pod.status?.startTime ?? pod.pod.metadata?.creationTimestamp ?? '');
  return Number.isFinite(t) ? t : 0;
}

/** More important first: higher priority, then started earlier (Kubernetes' MoreImportantPod). */
function moreImportantFirst(a: PodInfo, b: PodInfo): number {
  return b.priority - a.priority || startMs(a) - startMs(b);
}

interface Candidate {
  readonly node: string;
  readonly victims: PodInfo[];
  readonly pdbViolations: number;
}

/** Budgets left per PDB (disruptionsAllowed), and which PDBs select a pod. */
function pdbsOf(pod: PodInfo, pdbs: readonly PodDisruptionBudget[]): number[] {
  const out: number[] = [];
  pdbs.forEach((pdb, i) => {
    if (pdb.metadata?.namespace !== pod.namespace) return;
    const selector = pdb.spec?.selector;
    // An empty selector selects nothing for policy/v1 PDBs in the scheduler's reading.
    if (selector === undefined || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)) return;
    if (selectorMatches(selector, pod.labels)) out.push(i);
  });
  return out;
}

function selectVictims(pod: PodInfo, node: NodeInfo, snapshot: Snapshot, filters: readonly FilterPlugin[], pdbs: readonly PodDisruptionBudget[]): Candidate | { reasons: readonly string[] } {
  const trial = node.clone();
  const lower = [...trial.pods.values()].filter((p) => p.priority < pod.priority);
  if (lower.length === 0) return noVictims;
  for (const p of lower) trial.removePod(p.key);
  const still = fits(pod, trial, snapshot, filters);
  if (still !== undefined) return { reasons: still.reasons };
  lower.sort(moreImportantFirst);
  const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
  const violating: PodInfo[] = [];
  const safe: PodInfo[] = [];
  for (const p of lower) {
    const covering = pdbsOf(p, pdbs);
    let breaks = false;
    for (const i of covering) {
      allowed[i] = (allowed[i] ?? 0) - 1;
      if ((allowed[i] ?? 0) < 0) breaks = true;
    }
    (breaks ? violating : safe).push(p);
  }
  const victims: PodInfo[] = [];
  let pdbViolations = 0;
  const reprieve = (p: PodInfo): boolean => {
    trial.addPod(p);
    if (fits(pod, trial, snapshot, filters) === undefined) return true;
    trial.removePod(p.key);
    victims.push(p);
    return false;
  };
  for (const p of violating) if (!reprieve(p)) pdbViolations++;
  for (const p of safe) reprieve(p);
  victims.sort(moreImportantFirst);
  return { node: node.name, victims, pdbViolations };
}

function better(a: Candidate, b: Candidate): boolean {
  if (a.pdbViolations !== b.pdbViolations) return a.pdbViolations < b.pdbViolations;
  const topA = a.victims[0]?.priority ?? -Infinity;
  const topB = b.victims[0]?.priority ?? -Infinity;
  if (topA !== topB) return topA < topB;
  const sum = (c: Candidate): number => c.victims.reduce((s, v) => s + v.priority, 0);
  if (sum(a) !== sum(b)) return sum(a) < sum(b);
  if (a.victims.length !== b.victims.length) return a.victims.length < b.victims.length;
  const startA = a.victims[0] === undefined ? 0 : startMs(a.victims[0]);
  const startB = b.victims[0] === undefined ? 0 : startMs(b.victims[0]);
  return startA > startB;
}

export function preempt(pod: PodInfo, snapshot: Snapshot, input: {
  readonly diagnosis: Diagnosis;
  readonly filters: readonly FilterPlugin[];
  readonly pdbs: readonly PodDisruptionBudget[];
}): PreemptionResult {
  if (pod.pod.spec?.preemptionPolicy === 'Never') return { message: 'preemption: not eligible due to preemptionPolicy=Never.' };
  const nominated = pod.pod.status?.nominatedNodeName;
  if (nominated !== undefined && nominated !== '') {
    const node = snapshot.node(nominated);
    const terminating = node !== undefined && [...node.pods.values()].some((p) => p.priority < pod.priority && isDeleting(p.pod));
    if (terminating) return { message: 'preemption: not eligible due to a terminating pod on the nominated node.' };
  }
  const statuses = new Map<string, { reasons: readonly string[] }>();
  const candidates: Candidate[] = [];
  for (const node of snapshot.nodes) {
    const failed = input.diagnosis.preFilter !== undefined ? undefined : input.diagnosis.nodes.get(node.name);
    if (failed === undefined || failed.code !== 'Unschedulable') { statuses.set(node.name, notHelpful); continue; }
    if (candidates.length >= schedulerLimits.preemptionCandidatesMax) continue;
    const outcome = selectVictims(pod, node, snapshot, input.filters, input.pdbs);
    if ('victims' in outcome) candidates.push(outcome);
    else statuses.set(node.name, outcome);
  }
  if (candidates.length === 0) {
    return { message: `preemption: ${fitErrorMessage({ numAllNodes: statuses.size, nodes: statuses })}` };
  }
  let best = candidates[0] as Candidate;
  for (const c of candidates.slice(1)) if (better(c, best)) best = c;
  return best;
}
