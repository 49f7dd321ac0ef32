/**
 * A namespace's pods as a watch delivers them, from a list taken first: the history the workload
 * suites check invariants on (every moment, not samples). A watch the server times out resumes
 * from the last resourceVersion (also one whose member died); a gap (410) is recorded so the check can refuse the history.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { refs } from '../../actors/controllers/runtime/resource-refs.js';
import type { WatchHandle } from '../../actors/controllers/runtime/types.js';
import type { ApiHarness } from '../apiserver/harness.js';
import { adminApi } from '../support/control-plane.js';
import { isGone } from '../../actors/controllers/runtime/api-errors.js';

export interface PodEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'GAP';
  readonly pod: Pod;
}

export interface PodHistory {
  readonly initial: Pod[];
  readonly events: PodEvent[];
  stop(): void;
}

export async function recordPods(h: ApiHarness, namespace: string, onEvent?: (event: PodEvent, events: readonly PodEvent[]) => void): Promise<PodHistory> {
  const api = adminApi(h);
  const list = await api.list<Pod>(refs.pods, { namespace });
  const events: PodEvent[] = [];
  let lastRv = list.resourceVersion;
  let handle: WatchHandle | undefined;
  let stopped = false;
  const start = async (): Promise<void> => {
    handle = await api.watch<Pod>(refs.pods, { namespace, resourceVersion: lastRv }, {
      onEvent: (type, pod) => {
        if (type === 'BOOKMARK' || type === 'ERROR') return;
        const event = { type, pod };
        events.push(event);
        lastRv = pod.metadata?.resourceVersion ?? lastRv;
        onEvent?.(event, events);
      },
      // Only a 410 loses events; a stream that ended or was lost (its member killed) resumes from lastRv.
      onEnd: (error) => {
        if (isGone(error)) events.push({ type: 'GAP', pod: {} });
        if (!stopped) void start().catch(() => events.push({ type: 'GAP', pod: {} }));
      },
    });
  };
  await start();
  return { initial: list.items, events, stop: () => { stopped = true; handle?.stop(); } };
}
