/**
 * The contract of the cross-host path (issue 12 §2): when an endpoint's pod IP is not routable
 * from this node, the proxy carries the connection over NATS to the agent of the endpoint's node,
 * which connects locally. Only agents and members may open a tunnel (their NATS permissions), and
 * the accepting agent connects only to pods bound to it.
 *
 * Which endpoints need it: two nodes share a pod network when they registered the same
 * `kubus.io/pod-network` label (`kubus agent --pod-network <name>`, default: the host's machine id,
 * so agents on one host share one). An endpoint on a node of another pod network is tunnelled.
 */
import type { Duplex } from 'node:stream';

/** The Node label naming the pod network a node is on (nodes with equal values route each other's pod IPs). */
export const podNetworkLabel = 'kubus.io/pod-network';

export interface TunnelTarget {
  /** The node running the endpoint's pod. */
  readonly node: string;
  readonly address: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
}

export interface TunnelDialer {
  /**
   * Opens a stream to `target` through `target.node`'s agent. Resolves once the far agent has
   * connected to the pod; rejects with a typed error (refused, unreachable node, timeout) otherwise.
   * For UDP each chunk written is one datagram and each chunk read is one datagram.
   */
  dial(target: TunnelTarget, options?: { readonly timeoutMs?: number; readonly signal?: AbortSignal }): Promise<Duplex>;
}

/** Which pod network each node is on, and this node's own (from the Node label above). */
export interface PodNetworks {
  readonly self: string;
  /** The pod network of `node`, or undefined when the node is not known (then the endpoint is dialled directly). */
  of(node: string): string | undefined;
}
