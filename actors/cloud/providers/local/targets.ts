/**
 * Where a `local` balancer sends traffic: each given node's InternalIP at the Service port's
 * nodePort (provider.ts: "traffic goes to each node's InternalIP at the Service's nodePorts").
 * Pure, so the choice is tested without sockets.
 */
import type { Node } from 'kubernetes-types/core/v1.js';

export interface Target {
  readonly host: string;
  readonly port: number;
}

/** The address a balancer connects to on this node: InternalIP, else ExternalIP, else none. */
export function nodeTargetAddress(node: Node): string | null {
  const addresses = node.status?.addresses ?? [];
  for (const type of ['InternalIP', 'ExternalIP']) {
    const found = addresses.find((address) => address.type === type && address.address !== '');
    if (found !== undefined) return found.address;
  }
  return null;
}

/** Targets for one nodePort, in node-name order (a stable order: round-robin then spreads evenly). */
export function targetsFor(nodes: readonly Node[], nodePort: number): Target[] {
  const seen = new Set<string>();
  const out: Target[] = [];
  const sorted = [...nodes].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const node of sorted) {
    const host = nodeTargetAddress(node);
    if (host === null || seen.has(host)) continue;
    seen.add(host);
    out.push({ host, port: nodePort });
  }
  return out;
}

/**
 * The order in which one connection tries the targets: round-robin from `next`, then the rest
 * (the next node on a connect failure). Returns the order and the cursor for the next connection.
 */
export function attemptOrder(targets: readonly Target[], next: number): { order: Target[]; next: number } {
  if (targets.length === 0) return { order: [], next: 0 };
  const start = next % targets.length;
  const order = targets.map((_, index) => targets[(start + index) % targets.length] as Target);
  return { order, next: (start + 1) % targets.length };
}
