/**
 * DefaultTolerationSeconds admission for pod creates, as Kubernetes' plugin: a pod that does not
 * tolerate the `not-ready` / `unreachable` NoExecute taints gets a 300 s toleration of each, so
 * the node lifecycle controller evicts it five minutes after its node fails, not at once.
 */
import type { Pod, Toleration } from 'kubernetes-types/core/v1.js';
import { nodeTaints } from '../../objects/index.js';

/** Kubernetes' `--default-not-ready-toleration-seconds` and `--default-unreachable-toleration-seconds`. */
export const defaultTolerationSeconds = 300;

/** Whether `toleration` already covers the NoExecute taint `key` (an empty key or effect matches all). */
function covers(toleration: Toleration, key: string): boolean {
  return (toleration.key === undefined || toleration.key === '' || toleration.key === key)
    && (toleration.effect === undefined || toleration.effect === '' || toleration.effect === 'NoExecute');
}

export function admitDefaultTolerationSeconds(pod: Pod): Pod {
  const tolerations = pod.spec?.tolerations ?? [];
  const added: Toleration[] = [];
  for (const key of [nodeTaints.notReady, nodeTaints.unreachable]) {
    if (!tolerations.some((t) => covers(t, key))) {
      added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: defaultTolerationSeconds });
    }
  }
  if (added.length === 0 || pod.spec === undefined) return pod;
  return { ...pod, spec: { ...pod.spec, tolerations: [...tolerations, ...added] } };
}
