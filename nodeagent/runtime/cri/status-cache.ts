/**
 * Container statuses remembered by their listed state: a status only changes with its state
 * (created → running → exited; an exited one never changes), so listContainers — which pod
 * workers call for every pod on every pass — needs a ContainerStatus call only for containers
 * whose state moved since last seen, not one per container per pass.
 */
import type { ContainerStatus } from '../types.js';
import { criLimits } from './limits.js';
import { containerState } from './views.js';
import type { WireContainer } from './wire.js';

export class ContainerStatusCache {
  private readonly entries = new Map<string, ContainerStatus>();

  /** The remembered status when the listing shows the same state; undefined: ask containerd. */
  lookup(listed: WireContainer): ContainerStatus | undefined {
    const cached = this.entries.get(listed.id);
    return cached !== undefined && cached.state === containerState(listed.state) && cached.state !== 'unknown' ? cached : undefined;
  }

  remember(status: ContainerStatus): void {
    this.entries.delete(status.id);
    this.entries.set(status.id, status);
    // Oldest first out: a forgotten status is asked for again, never wrong.
    while (this.entries.size > criLimits.statusCacheEntriesMax) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  forget(containerId: string): void {
    this.entries.delete(containerId);
  }
}
