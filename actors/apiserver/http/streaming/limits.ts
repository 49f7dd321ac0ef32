/**
 * Bounds of the API server's streaming verbs (exec, attach, port-forward), each with its reason.
 * `checkStreamingLimits` runs at start-up, so an override that could not work fails there.
 */
import { streamProtocolLimits } from '../../../../nodeagent/rpc/stream-protocol.js';

export const streamingLimits = {
  /**
   * Interactive sessions (exec, attach, port-forward connections) one member serves at once. Each
   * holds a socket and at least one bus stream (two 256 KiB windows); 256 matches the bus stream
   * endpoint's own bound, so the member refuses with a Status before the endpoint would.
   */
  sessionsPerMemberMax: 256,
  /**
   * Data streams one port-forward connection may have open at once (kubectl opens one per local
   * TCP connection): each is one member ⇄ agent bus stream, so one kubectl cannot take every stream.
   */
  portForwardStreamsPerConnectionMax: 32,
  /** Bytes of a WebSocket message accepted from kubectl: a stdin chunk or a burst of SPDY frames (kubectl writes 32 KiB). */
  webSocketMessageBytesMax: 1024 * 1024,
  /**
   * Bytes queued towards kubectl on the WebSocket before the member stops reading from the agent:
   * a slow terminal slows the container's output instead of filling the member's memory.
   */
  webSocketSendBufferBytesMax: 1024 * 1024,
  /**
   * Bytes of stdin (or port-forward data) received while the agent stream is still being opened:
   * the socket is paused past it. One window's worth.
   */
  pendingClientBytesMax: 256 * 1024,
  /** Largest SPDY frame payload accepted from kubectl (24-bit length field): spdystream writes data in 32 KiB frames. */
  spdyFramePayloadMax: 1024 * 1024,
  /** Largest inflated SPDY header block: kubectl's port-forward headers are three short pairs. */
  spdyHeaderBlockBytesMax: 16 * 1024,
  /** Header pairs in one SYN_STREAM (kubectl sends 3). */
  spdyHeaderPairsMax: 64,
  /** How long the member waits for the agent to accept an open: the protocol's own bound. */
  openTimeoutMs: streamProtocolLimits.openTimeoutMs,
  /**
   * A client heard from neither by message nor by ping/pong for this long is gone (its host died
   * or the network dropped it without a TCP reset): its session ends and its agent stream with it.
   * kubectl pings every 5 s and gives the server 61 s to answer; we ping too, so any client's pong counts.
   */
  clientSilenceMaxMs: 60_000,
  /** How often a session checks its client and pings it. */
  livenessCheckIntervalMs: 15_000,
} as const;

export type StreamingLimits = typeof streamingLimits;

export function checkStreamingLimits(limits: StreamingLimits): void {
  if (limits.webSocketMessageBytesMax < streamProtocolLimits.framePayloadMax + 1) {
    throw new RangeError('a WebSocket message must hold one channel frame payload and its channel byte');
  }
  if (limits.spdyFramePayloadMax >= 1 << 24) throw new RangeError('SPDY frame lengths are 24 bits');
  if (limits.webSocketSendBufferBytesMax < streamProtocolLimits.framePayloadMax) throw new RangeError('the WebSocket send buffer must hold one frame');
  if (limits.clientSilenceMaxMs < 2 * limits.livenessCheckIntervalMs) throw new RangeError('a client must be pinged at least twice before it counts as silent');
}

checkStreamingLimits(streamingLimits);
