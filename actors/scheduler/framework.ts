/**
 * The plugin shape, as Kubernetes' scheduling framework has it but folded for speed: a filter
 * plugin's `prepare` is its PreFilter (run once per pod, may fail the pod on every node or say the
 * plugin does not apply) and returns the per-node Filter as a closure over what it computed; a
 * score plugin scores all feasible nodes at once and normalizes to 0..100 (MaxNodeScore).
 */
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import type { Snapshot } from './snapshot.js';

/** Kubernetes' status codes that matter here: whether preemption on that node could help. */
export type FailureCode = 'Unschedulable' | 'UnschedulableAndUnresolvable';

export interface FilterFailure {
  readonly plugin: string;
  readonly code: FailureCode;
  /** Each reason is counted on its own in the FailedScheduling message (`2 Insufficient cpu`). */
  readonly reasons: readonly string[];
}

export type NodeFilter = (node: NodeInfo) => FilterFailure | undefined;

/** PreFilter failed: the pod fits no node, for one reason that is not per node. */
export interface PreFilterFailure {
  readonly plugin: string;
  readonly code: FailureCode;
  readonly message: string;
}

export const skip = 'skip' as const;

export interface FilterPlugin {
  readonly name: string;
  prepare(pod: PodInfo, snapshot: Snapshot): NodeFilter | PreFilterFailure | typeof skip;
}

export interface ScorePlugin {
  readonly name: string;
  readonly weight: number;
  /** Normalized scores (0..100) of `nodes`, in their order; undefined when the plugin does not apply to the pod. */
  score(pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): Float64Array | undefined;
}

export const maxNodeScore = 100;

export function failure(plugin: string, code: FailureCode, ...reasons: string[]): FilterFailure {
  return { plugin, code, reasons };
}

export function isPreFilterFailure(value: unknown): value is PreFilterFailure {
  return typeof value === 'object' && value !== null && 'message' in value;
}

/** Kubernetes' DefaultNormalizeScore: scales so the highest is 100 (reversed: the lowest is 100). */
export function normalizeToMax(scores: Float64Array, reverse: boolean): Float64Array {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  for (let i = 0; i < scores.length; i++) {
    if (max === 0) scores[i] = reverse ? maxNodeScore : 0;
    else {
      const s = Math.trunc((maxNodeScore * (scores[i] ?? 0)) / max);
      scores[i] = reverse ? maxNodeScore - s : s;
    }
  }
  return scores;
}
