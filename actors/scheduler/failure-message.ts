/**
 * The FailedScheduling message as Kubernetes 1.32's FitError.Error() writes it: `0/N nodes are
 * available:` then the PreFilter's message, or a histogram of the node reasons (`2 Insufficient
 * cpu`), sorted as strings (Go's sort.Strings), joined by `, `, each part ending with `.`; then the
 * PostFilter (preemption) message. E.g. `0/3 nodes are available: 1 node(s) had untolerated taint
 * {dedicated: gpu}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not
 * helpful for scheduling, 2 No preemption victims found for incoming pod.`
 */
import type { FilterFailure, PreFilterFailure } from './framework.js';

export interface FitDiagnosis {
  readonly numAllNodes: number;
  readonly preFilter?: PreFilterFailure | undefined;
  readonly nodes: ReadonlyMap<string, Pick<FilterFailure, 'reasons'>>;
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function fitErrorMessage(diagnosis: FitDiagnosis, postFilterMessage = ''): string {
  // Kubernetes' ErrNoNodesAvailable: with no nodes there is nothing to count and no preemption.
  if (diagnosis.numAllNodes === 0 && diagnosis.preFilter === undefined) return 'no nodes available to schedule pods';
  let message = `0/${diagnosis.numAllNodes} nodes are available:`;
  if (diagnosis.preFilter !== undefined) {
    message += ` ${diagnosis.preFilter.message}.`;
  } else {
    const counts = new Map<string, number>();
    for (const status of diagnosis.nodes.values()) for (const reason of status.reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
    const parts = [...counts].map(([reason, count]) => `${count} ${reason}`).sort(byteOrder);
    if (parts.length > 0) message += ` ${parts.join(', ')}.`;
  }
  if (postFilterMessage !== '') message += ` ${postFilterMessage}.`;
  return message;
}
