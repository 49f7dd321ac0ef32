/**
 * The agent rpc server's bounds, in one place (STYLE rule 5). What both sides of the protocol
 * share (chunk size, long-poll wait, request deadline) is in protocol.ts `nodeRpcLimits`.
 */
import { assert } from '../../bus/assert.js';
import { nodeRpcLimits } from './protocol.js';

export const logReaderLimits = {
  /** Raw bytes read from a file per read call: a CRI record is at most 16 KiB (the writer splits longer lines), so a block holds several. */
  readBlockBytes: 64 * 1024,
  /** Raw bytes one chunk may scan (lines skipped by sinceTime included), so a request stays short even when nothing matches. */
  scanBytesMax: 4 * 1024 * 1024,
} as const;

export const logsHandlerLimits = {
  /** How often a caught-up long poll looks for new lines: 4 times a second keeps `-f` lively at negligible cost. */
  followPollMs: 250,
} as const;

export const rpcServerLimits = {
  /** Requests answered at once: each follow stream holds one for up to a long poll (10 s); 32 followers per node is plenty. */
  concurrencyMax: 32,
  /** Requests waiting beyond those; more are dropped and the member's deadline answers them. */
  pendingMax: 128,
} as const;

/** Checked at start-up: one chunk must fit in a scan, and a long poll must leave time to answer within the request deadline. */
export function checkRpcLimits(): void {
  assert(logReaderLimits.scanBytesMax >= nodeRpcLimits.chunkBytesMax, 'rpc limits: scanBytesMax must hold at least one chunk');
  assert(nodeRpcLimits.waitMsMax < nodeRpcLimits.requestTimeoutMs, 'rpc limits: a long poll must end before the member gives up on it');
  assert(logsHandlerLimits.followPollMs <= nodeRpcLimits.waitMsMax, 'rpc limits: followPollMs must be within waitMsMax');
}
