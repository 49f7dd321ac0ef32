/**
 * Open connections (TCP) and sessions (UDP) by Service: the per-Service bound, and draining.
 *
 * Decision: an endpoint that leaves its Service gets no new connections (the router no longer
 * offers it) while its open ones keep running up to `drainMs` (a request in flight finishes, a
 * long-lived one is closed at the bound); UDP sessions to it close at once, as kube-proxy clears
 * their conntrack entries, so the client's next datagram goes to a live endpoint. An endpoint that
 * comes back within the drain keeps its connections.
 */
import type { Clock, TimerId } from '../../bus/clock.js';

export interface TrackedConnection {
  readonly service: string;
  readonly portName: string;
  readonly protocol: 'TCP' | 'UDP';
  /** endpointId() of the endpoint it is connected to. */
  readonly endpoint: string;
  close(): void;
}

interface Entry {
  readonly connection: TrackedConnection;
  drainTimer: TimerId | null;
}

export class ConnectionTracker {
  private readonly byService = new Map<string, Set<Entry>>();

  constructor(private readonly clock: Clock, private readonly drainMs: number) {}

  count(service: string): number {
    return this.byService.get(service)?.size ?? 0;
  }

  /** Registers an open connection; the returned function unregisters it (call it once it closed). */
  add(connection: TrackedConnection): () => void {
    let entries = this.byService.get(connection.service);
    if (entries === undefined) this.byService.set(connection.service, (entries = new Set()));
    const entry: Entry = { connection, drainTimer: null };
    entries.add(entry);
    return () => {
      if (entry.drainTimer !== null) this.clock.clearTimeout(entry.drainTimer);
      entry.drainTimer = null;
      const set = this.byService.get(connection.service);
      set?.delete(entry);
      if (set?.size === 0) this.byService.delete(connection.service);
    };
  }

  /** After a change of `service`: connections whose endpoint `present` no longer holds drain; returning ones stop draining. */
  reconcile(service: string, present: (connection: TrackedConnection) => boolean): void {
    for (const entry of [...(this.byService.get(service) ?? [])]) {
      const here = present(entry.connection);
      if (here && entry.drainTimer !== null) {
        this.clock.clearTimeout(entry.drainTimer);
        entry.drainTimer = null;
      } else if (!here && entry.drainTimer === null) {
        if (entry.connection.protocol === 'UDP') {
          entry.connection.close();
          continue;
        }
        entry.drainTimer = this.clock.setTimeout(() => {
          entry.drainTimer = null;
          entry.connection.close();
        }, this.drainMs);
      }
    }
  }

  /** Services with open connections (the proxy reconciles them when their Service is gone too). */
  services(): string[] {
    return [...this.byService.keys()];
  }

  closeAll(): void {
    for (const entries of [...this.byService.values()]) for (const entry of [...entries]) entry.connection.close();
  }
}
