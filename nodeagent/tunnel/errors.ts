/**
 * Why a tunnel dial failed, typed so the proxy can act (try the next endpoint, log the reason):
 * refused by the far agent (with its reason), no agent answering for that node, or no answer in time.
 */
import { KubusError, type ErrorFields } from '../../bus/errors.js';
import type { TunnelTarget } from './types.js';

/**
 * Why the far agent refused: `notAPod` (the address is not a pod this node runs now),
 * `connectFailed` (the pod refused or did not answer), `badTarget` (malformed), `tooManyStreams`,
 * `forbidden` (this bus user may not open tunnels), or another code the far end sent.
 */
export type TunnelRefusalReason = 'notAPod' | 'connectFailed' | 'badTarget' | 'tooManyStreams' | 'forbidden' | (string & {});

export class TunnelRefusedError extends KubusError {
  override readonly name = 'TunnelRefusedError';
  readonly code = 'tunnelRefused';
  constructor(readonly target: TunnelTarget, readonly reason: TunnelRefusalReason, detail: string, options?: { cause: unknown }) {
    super(`tunnel to ${describeTarget(target)} refused (${reason}): ${detail}`, options);
  }
  override fields(): ErrorFields {
    return { node: this.target.node, address: this.target.address, port: this.target.port, protocol: this.target.protocol, reason: this.reason };
  }
}

/** No agent of `target.node` listens on the bus (the node is unknown, its agent stopped or lost NATS). */
export class TunnelUnreachableError extends KubusError {
  override readonly name = 'TunnelUnreachableError';
  readonly code = 'tunnelUnreachable';
  constructor(readonly target: TunnelTarget, options?: { cause: unknown }) {
    super(`tunnel to ${describeTarget(target)}: no agent of node ${target.node} is listening`, options);
  }
  override fields(): ErrorFields {
    return { node: this.target.node, address: this.target.address, port: this.target.port, protocol: this.target.protocol };
  }
}

/** The far agent did not answer within `timeoutMs` (overloaded, stalled, or cut off mid-way). */
export class TunnelTimeoutError extends KubusError {
  override readonly name = 'TunnelTimeoutError';
  readonly code = 'tunnelTimeout';
  constructor(readonly target: TunnelTarget, readonly timeoutMs: number, options?: { cause: unknown }) {
    super(`tunnel to ${describeTarget(target)}: no answer from node ${target.node} within ${timeoutMs} ms`, options);
  }
  override fields(): ErrorFields {
    return { node: this.target.node, address: this.target.address, port: this.target.port, protocol: this.target.protocol, timeoutMs: this.timeoutMs };
  }
}

export function describeTarget(target: TunnelTarget): string {
  const host = target.address.includes(':') ? `[${target.address}]` : target.address;
  return `${host}:${target.port}/${target.protocol} on node ${target.node}`;
}
