/**
 * Every bound of the byte stream over NATS, with its reason. Checked against each other at load
 * (`checkStreamLimits`), so a change that would let one stream overflow the shared subscription
 * fails at start-up, not under load.
 */
import { assert } from '../assert.js';

export const streamLimits = {
  /**
   * Bytes one direction may have in flight (sent, not yet read by the far application): the
   * receiver buffers at most this much per stream, whatever the writer does. 256 KiB covers the
   * bandwidth-delay product of a loopback or LAN NATS hop (≈ 1 ms × 200 MB/s) with room to spare.
   */
  windowBytes: 256 * 1024,
  /** Largest DATA payload of a byte stream (a datagram is one DATA whatever its size, up to datagramBytesMax): well under NATS's default max_payload (1 MiB), small enough to interleave streams. */
  chunkBytesMax: 64 * 1024,
  /** Largest datagram (datagram mode): the largest UDP payload over IPv4. */
  datagramBytesMax: 65_507,
  /** A side that sent nothing for this long sends a WINDOW frame, so its peer knows it lives. */
  keepaliveIntervalMs: 5_000,
  /** Nothing heard for this long: the peer (its process, its NATS link) is gone; the stream is reset. Three missed keepalives. */
  peerTimeoutMs: 15_000,
  /** How long the opener waits for the far end to accept (it connects to its target first). */
  openTimeoutMs: 10_000,
  /** Streams one endpoint holds at once; past it new ones are refused (bounds memory: streams × window). */
  streamsMax: 256,
  /** Bytes of a reset reason kept: a peer's message is shown to users, not stored whole. */
  reasonBytesMax: 512,
} as const;

export interface StreamTuning {
  readonly windowBytes: number;
  readonly chunkBytesMax: number;
  readonly keepaliveIntervalMs: number;
  readonly peerTimeoutMs: number;
}

export const defaultStreamTuning: StreamTuning = {
  windowBytes: streamLimits.windowBytes,
  chunkBytesMax: streamLimits.chunkBytesMax,
  keepaliveIntervalMs: streamLimits.keepaliveIntervalMs,
  peerTimeoutMs: streamLimits.peerTimeoutMs,
};

/**
 * Messages the endpoint's one subscription may hold: every stream's full window in the smallest
 * chunks that still fill it, plus control frames. A correct peer never makes the subscription drop.
 */
export function endpointPendingMax(tuning: StreamTuning, streamsMax: number): number {
  return streamsMax * (Math.ceil(tuning.windowBytes / Math.min(tuning.chunkBytesMax, 4096)) + 8);
}

export function checkStreamTuning(tuning: StreamTuning, options: { readonly datagrams: boolean }): void {
  assert(tuning.windowBytes >= tuning.chunkBytesMax, `stream window (${tuning.windowBytes}) must hold one chunk (${tuning.chunkBytesMax})`);
  assert(tuning.chunkBytesMax > 0 && tuning.chunkBytesMax <= 1024 * 1024 - 64, `stream chunk (${tuning.chunkBytesMax}) must fit NATS's default max_payload with its header`);
  assert(!options.datagrams || tuning.windowBytes >= streamLimits.datagramBytesMax, 'a datagram stream window must hold the largest datagram');
  assert(tuning.peerTimeoutMs > tuning.keepaliveIntervalMs, 'the peer timeout must exceed the keepalive interval (else an idle peer looks dead)');
}

checkStreamTuning(defaultStreamTuning, { datagrams: true });
