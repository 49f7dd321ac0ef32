/**
 * The member ⇄ agent stream protocol for `kubectl exec`, `attach` and `port-forward`: a member
 * opens one bus stream (bus/stream, bytes mode) to the agent's endpoint `node.<N>.rpc.stream`
 * with a `StreamOpenHeader`, then both sides exchange channel frames on it. Shared by both sides
 * (the API server imports this file only).
 *
 * Decision: one frame format for all three verbs, the Kubernetes channel numbers (stdin 0,
 * stdout 1, stderr 2, status 3, resize 4, close 255), so the API server's WebSocket side is a
 * re-framing, not a translation. Frames ride on a flow-controlled stream, so a slow kubectl slows
 * the container's output instead of filling a buffer.
 *
 * Decision: only members may publish on `node.*.rpc.stream[.*]` (bus/nats-auth.ts), and they
 * open a stream only for a request that passed authentication and RBAC (`create pods/exec`,
 * `pods/attach`, `pods/portforward`); the agent additionally refuses an open whose reply end is
 * not a member's stream subject (`isMemberStreamSubject`).
 *
 * Port-forward on this protocol: channel 0 carries client → pod bytes, 1 pod → client bytes,
 * 3 an error text (the connection to the pod failed or broke), 255 with payload [0] the client's
 * half-close; the agent ends the stream when the pod side closes.
 */

export type ExecStreamHeader = {
  readonly v: 1;
  readonly op: 'exec' | 'attach';
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly container: string;
  /** exec only; attach ignores it. */
  readonly command: readonly string[];
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
};

export type PortForwardStreamHeader = {
  readonly v: 1;
  readonly op: 'portforward';
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly port: number;
};

export type StreamOpenHeader = ExecStreamHeader | PortForwardStreamHeader;

/** Why an agent refuses an open (the refusal's `reason`); the API server maps each to a Status. */
export type StreamRefusalReason =
  | 'podNotFound' // 404: no such pod (uid) on this node
  | 'containerNotFound' // 400: container X is not valid for pod Y
  | 'notRunning' // 400: the container is not running (exec/attach need a running one)
  | 'unsupported' // 400: the runtime cannot (hollow)
  | 'badRequest' // 400: malformed header
  | 'forbidden' // 403: not opened by a member
  | 'busy'; // 429: too many streams on this node

export const streamChannels = {
  stdin: 0,
  stdout: 1,
  stderr: 2,
  /** One JSON `StreamStatus`, then the agent ends the stream. */
  status: 3,
  /** JSON `{"Width":W,"Height":H}` as kubectl sends it. */
  resize: 4,
  /** Payload: one byte, the channel closed (0: stdin EOF). */
  close: 255,
} as const;

export type StreamStatus =
  | { readonly exitCode: number }
  | { readonly error: string };

export const streamProtocolLimits = {
  /** Payload bytes per frame: a WebSocket message to kubectl stays small, and a 32 KiB read of a pipe fits one frame. */
  framePayloadMax: 32 * 1024,
  /** Streams one agent serves at once: each holds a process or a socket and two 256 KiB windows. */
  streamsPerNodeMax: 64,
  /** How long a member waits for the agent to accept an open (the agent checks the pod and, for port-forward, connects). */
  openTimeoutMs: 10_000,
} as const;

const headerBytes = 5;

/** One frame: channel byte, payload length (u32 big-endian), payload. */
export function encodeChannelFrame(channel: number, payload: Uint8Array): Buffer {
  if (payload.length > streamProtocolLimits.framePayloadMax) throw new RangeError(`channel frame payload ${payload.length} bytes exceeds ${streamProtocolLimits.framePayloadMax}`);
  const out = Buffer.allocUnsafe(headerBytes + payload.length);
  out[0] = channel;
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, headerBytes);
  return out;
}

/** Splits `payload` into frames of at most framePayloadMax bytes each. */
export function encodeChannelFrames(channel: number, payload: Uint8Array): Buffer[] {
  const frames: Buffer[] = [];
  for (let offset = 0; offset < payload.length; offset += streamProtocolLimits.framePayloadMax) {
    frames.push(encodeChannelFrame(channel, payload.subarray(offset, offset + streamProtocolLimits.framePayloadMax)));
  }
  return frames;
}

export interface ChannelFrame {
  readonly channel: number;
  readonly payload: Buffer;
}

export class ChannelFrameError extends Error {
  override readonly name = 'ChannelFrameError';
  readonly code = 'channelFrame';
}

/** Reassembles frames from a byte stream (bus stream chunks do not keep frame boundaries). */
export class ChannelFrameDecoder {
  private buffered: Buffer = Buffer.alloc(0);

  /** Returns every frame completed by `chunk`; throws ChannelFrameError on a frame larger than the bound. */
  push(chunk: Uint8Array): ChannelFrame[] {
    this.buffered = this.buffered.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffered, chunk]);
    const frames: ChannelFrame[] = [];
    while (this.buffered.length >= headerBytes) {
      const length = this.buffered.readUInt32BE(1);
      if (length > streamProtocolLimits.framePayloadMax) throw new ChannelFrameError(`channel frame of ${length} bytes exceeds ${streamProtocolLimits.framePayloadMax}`);
      if (this.buffered.length < headerBytes + length) break;
      frames.push({ channel: this.buffered[0]!, payload: this.buffered.subarray(headerBytes, headerBytes + length) });
      this.buffered = this.buffered.subarray(headerBytes + length);
    }
    return frames;
  }

  /** Bytes of an incomplete frame held (at most one frame). */
  pendingBytes(): number {
    return this.buffered.length;
  }
}

/** The reply subject prefix a legitimate opener (a member) uses: `kubus.<cluster>.member.<id>.stream`. */
export function isMemberStreamSubject(cluster: string, replyTo: string): boolean {
  const prefix = `kubus.${cluster}.member.`;
  if (!replyTo.startsWith(prefix)) return false;
  const rest = replyTo.slice(prefix.length).split('.');
  return rest.length >= 2 && rest[0] !== '' && rest[1] === 'stream';
}

/**
 * Feeds every chunk `source` emits through one decoder and hands the complete frames to
 * `onFrame`, in order; a malformed frame (over the bound) goes to `onMalformed` instead and stops
 * the rest of that chunk. The one reading loop of both ends (agent relays, API sessions).
 */
export function readChannelFrames(
  source: { on(event: 'data', listener: (chunk: Buffer) => void): unknown },
  onFrame: (frame: ChannelFrame) => void,
  onMalformed: (error: Error) => void,
): void {
  const decoder = new ChannelFrameDecoder();
  source.on('data', (chunk: Buffer) => {
    let frames: ChannelFrame[];
    try {
      frames = decoder.push(chunk);
    } catch (error) {
      onMalformed(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    for (const frame of frames) onFrame(frame);
  });
}

/** Writes `payload` to `sink`, pausing `source` until the sink drains when it is full (flow control end to end). */
export function writeOrPause(source: { pause(): unknown; resume(): unknown }, sink: NodeJS.WritableStream, payload: Uint8Array): void {
  if (!sink.write(payload)) {
    source.pause();
    sink.once('drain', () => source.resume());
  }
}
