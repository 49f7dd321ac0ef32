/**
 * Container inspections, reused while the engine's list shows the same state: the kubelet lists
 * every container at each relist, and inspecting them all each time would cost one engine
 * request per container per relist. A container's inspect changes only with its state (its exit
 * code, finish time and OOM flag are set once, when it stops), so an entry is reused when the
 * list's state equals the cached one, and dropped on every operation and engine event on it.
 * Bound: `containersMax` entries; entries of containers the list no longer shows are pruned.
 */
import type { ContainerInspectInfo } from 'dockerode';
import { dockerLimits as limits } from './limits.js';

export class InspectCache {
  private readonly entries = new Map<string, ContainerInspectInfo>();

  get(containerId: string, listedState: string | undefined): ContainerInspectInfo | undefined {
    const entry = this.entries.get(containerId);
    if (entry === undefined || listedState === undefined || entry.State.Status !== listedState) return undefined;
    return entry;
  }

  put(info: ContainerInspectInfo): void {
    if (!this.entries.has(info.Id) && this.entries.size >= limits.containersMax) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(info.Id, info);
  }

  drop(containerId: string): void {
    this.entries.delete(containerId);
  }

  /** Keeps only the containers the engine still lists. */
  retain(listed: ReadonlySet<string>): void {
    for (const id of this.entries.keys()) if (!listed.has(id)) this.entries.delete(id);
  }
}
