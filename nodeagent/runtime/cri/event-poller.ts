/**
 * Container events for `onEvent` by polling ListContainers (containerd 1.6 has no
 * GetContainerEvents): a state change since the last poll becomes `started` or `exited`. Polls
 * only while someone listens; the first poll records states without reporting them, later ones
 * report a container first seen exited too (it started and ended between two polls).
 */
import type { Clock, TimerId } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { runtimeLabels, type ContainerEvent } from '../types.js';
import { criLimits } from './limits.js';
import type { WireContainer, WireContainerState } from './wire.js';

/** The events one poll's listing implies against the states last seen (pure). */
export function diffContainerStates(previous: ReadonlyMap<string, WireContainerState>, listed: readonly WireContainer[]): ContainerEvent[] {
  const events: ContainerEvent[] = [];
  for (const container of listed) {
    const before = previous.get(container.id);
    if (before === container.state) continue;
    const base = { containerId: container.id, sandboxId: container.podSandboxId, podUid: container.labels[runtimeLabels.podUid] ?? '' };
    if (container.state === 'CONTAINER_RUNNING') events.push({ type: 'started', ...base });
    else if (container.state === 'CONTAINER_EXITED') events.push({ type: 'exited', ...base });
  }
  return events;
}

export class ContainerEventPoller {
  private readonly listeners = new Set<(event: ContainerEvent) => void>();
  private states: Map<string, WireContainerState> | null = null;
  private timer: TimerId | null = null;
  private stopped = false;

  constructor(private readonly deps: { readonly list: () => Promise<readonly WireContainer[]>; readonly clock: Clock; readonly logger: Logger }) {}

  subscribe(listener: (event: ContainerEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.timer === null && !this.stopped) this.schedule();
    return () => {
      this.listeners.delete(listener);
    };
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    this.timer = this.deps.clock.setTimeout(() => void this.poll(), criLimits.eventPollMs);
  }

  private async poll(): Promise<void> {
    this.timer = null;
    if (this.stopped || this.listeners.size === 0) return;
    try {
      const listed = await this.deps.list();
      if (this.states !== null) {
        for (const event of diffContainerStates(this.states, listed)) for (const listener of this.listeners) listener(event);
      }
      const next = new Map<string, WireContainerState>();
      for (const container of listed.slice(-criLimits.eventTrackedContainersMax)) next.set(container.id, container.state);
      this.states = next;
    } catch (error) {
      this.deps.logger.debug('cri event poll failed; retrying', { error: (error as Error).message });
    }
    if (!this.stopped && this.listeners.size > 0) this.schedule();
  }
}
