/**
 * What the far agent decides about one open, as pure functions: is the header a well-formed
 * target, and is its address a pod this node runs now. The open's header is network input from
 * any agent or member, so nothing in it is trusted until parsed here.
 *
 * Decision: a target is accepted only when its address is the IP of a ready pod sandbox the runtime
 * reports now (not the API's view, which may lag or be unreachable): the tunnel reaches pods of
 * this node, never the node's other addresses or services. A pod whose IP is one of the node's own
 * addresses (`hostNetwork`, or the process runtime without a loopback pod CIDR) is refused: accepting
 * it would open every port of the host (everything bound to it, 127.0.0.1 included) to other agents.
 */
import ipaddr from 'ipaddr.js';
import type { PodSandboxStatus } from '../runtime/types.js';
import type { TunnelTarget } from './types.js';

export type TargetDecision =
  | { readonly accept: true; readonly target: TunnelTarget }
  | { readonly accept: false; readonly reason: 'badTarget' | 'notAPod' | 'wrongNode'; readonly message: string };

/** Parses an open's header into a target addressed to `self`, or says what is wrong with it. */
export function parseTarget(header: unknown, self: string): TargetDecision {
  if (typeof header !== 'object' || header === null) return bad('the open carries no target');
  const { node, address, port, protocol } = header as Record<string, unknown>;
  if (typeof node !== 'string' || node !== self) return { accept: false, reason: 'wrongNode', message: `this is node ${self}, the open names ${JSON.stringify(node)}` };
  if (typeof address !== 'string' || !ipaddr.isValid(address)) return bad(`address ${JSON.stringify(address)} is not an IP address`);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) return bad(`port ${JSON.stringify(port)} is not in 1-65535`);
  if (protocol !== 'TCP' && protocol !== 'UDP') return bad(`protocol ${JSON.stringify(protocol)} is not TCP or UDP`);
  return { accept: true, target: { node, address: normalizeIp(address), port, protocol } };
}

/** Accepts `target` when its address is a ready pod sandbox's IP. */
export function decideTarget(target: TunnelTarget, sandboxes: readonly PodSandboxStatus[], nodeAddresses: readonly string[] = []): TargetDecision {
  const address = normalizeIp(target.address);
  if (nodeAddresses.some((own) => ipaddr.isValid(own) && normalizeIp(own) === address) || ipaddr.process(address).range() === 'unspecified') {
    return { accept: false, reason: 'notAPod', message: `${target.address} is node ${target.node}'s own address (hostNetwork pods and pods without a pod network are not reachable through the tunnel)` };
  }
  const pod = sandboxes.find((sandbox) => sandbox.state === 'ready' && sandbox.ip !== null && ipaddr.isValid(sandbox.ip) && normalizeIp(sandbox.ip) === address);
  if (pod === undefined) return { accept: false, reason: 'notAPod', message: `${target.address} is not the address of a pod running on node ${target.node}` };
  return { accept: true, target: { ...target, address } };
}

/** One spelling per address (IPv4-mapped IPv6 as IPv4, IPv6 compressed), so equal addresses compare equal. */
export function normalizeIp(address: string): string {
  return ipaddr.process(address).toString();
}

function bad(message: string): TargetDecision {
  return { accept: false, reason: 'badTarget', message };
}
