/**
 * One `kubectl exec` or `attach` after the WebSocket handshake (subprotocol v5.channel.k8s.io):
 * WebSocket messages (channel byte + payload, K8S-STREAMING.md §3) re-framed to and from the
 * agent's channel frames (nodeagent/rpc/stream-protocol.ts), which use the same channel numbers.
 *
 * Decision: the agent stream is opened after the 101, and a failure to open (the agent refused,
 * or none answers) is reported as a Failure Status on channel 3, which kubectl prints as
 * `error: <message>`. Before the 101 it would be lost: any non-101 makes kubectl retry with SPDY,
 * which kubus refuses, and kubectl prints only that second refusal.
 *
 * Flow control both ways: stdin is written to the bus stream and the WebSocket paused while the
 * stream's write() returns false; output is sent to kubectl and the bus stream paused while the
 * WebSocket's send queue is over its bound (websocket-sender.ts).
 */
import type { Duplex } from 'node:stream';
import type { WebSocket, RawData } from 'ws';
import type { Logger } from '../../../../bus/index.js';
import { ChannelFrameDecoder, encodeChannelFrames, streamChannels } from '../../../../nodeagent/rpc/stream-protocol.js';
import { ApiError, apiErrors } from '../../status.js';
import { channelStatusOf, channelStatusOfError, parseStreamStatus, type ChannelStatus } from './exec-status.js';
import { streamingLimits } from './limits.js';
import { WebSocketSender } from './websocket-sender.js';

export interface ChannelSessionOptions {
  /** Opens the agent stream; rejects with the ApiError to report. */
  readonly open: () => Promise<Duplex>;
  readonly tty: boolean;
  readonly node: string;
  readonly logger: Logger;
  /** Called once when the session is over (its slot is released). */
  readonly onEnd: () => void;
}

/** Client → agent channels kubectl may send (stdin, resize, close); others are dropped. */
const clientChannels: ReadonlySet<number> = new Set([streamChannels.stdin, streamChannels.resize, streamChannels.close]);

export function runChannelSession(ws: WebSocket, options: ChannelSessionOptions): void {
  const sender = new WebSocketSender(ws, streamingLimits.webSocketSendBufferBytesMax);
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  let stream: Duplex | null = null;
  let finished = false;
  let ended = false;
  let waitingForDrain = false;
  let outputPaused = false;

  const end = (): void => {
    if (ended) return;
    ended = true;
    options.onEnd();
  };

  /** Status on channel 3, then close 1000: kubectl reads channel 3 until the connection closes. */
  const finish = (status: ChannelStatus): void => {
    if (finished) return;
    finished = true;
    if (ws.readyState === ws.OPEN) {
      sender.send(Buffer.concat([Buffer.from([streamChannels.status]), Buffer.from(JSON.stringify(status))]));
      ws.close(1000);
    }
    if (stream !== null && !stream.destroyed) stream.end();
  };

  const forward = (message: Buffer): void => {
    const channel = message[0];
    if (channel === undefined || !clientChannels.has(channel) || stream === null) return;
    let writable = true;
    for (const frame of encodeChannelFrames(channel, message.subarray(1))) writable = stream.write(frame) && writable;
    // encodeChannelFrames yields nothing for an empty payload; the close channel's [0] is never empty.
    if (!writable && !waitingForDrain) {
      // One wait at a time: messages already parsed keep arriving after pause() and must not stack listeners.
      waitingForDrain = true;
      ws.pause();
      stream.once('drain', () => {
        waitingForDrain = false;
        ws.resume();
      });
    }
  };

  ws.on('message', (data: RawData, isBinary: boolean) => {
    // A text message is not part of the protocol (kubectl sends binary only).
    if (!isBinary || finished) return;
    const message = toBuffer(data);
    if (stream !== null) return forward(message);
    pending.push(message);
    pendingBytes += message.length;
    if (pendingBytes > streamingLimits.pendingClientBytesMax) ws.pause();
  });
  ws.on('close', () => {
    if (!finished && stream !== null) stream.destroy();
    finished = true;
    end();
  });
  ws.on('error', (error) => options.logger.debug('exec websocket error', { node: options.node, error: error.message }));

  options.open().then((opened) => {
    if (finished) {
      opened.destroy();
      return;
    }
    stream = opened;
    attachAgentStream(opened);
    for (const message of pending.splice(0)) forward(message);
    pendingBytes = 0;
    ws.resume();
  }, (error: unknown) => finish(channelStatusOfError(error instanceof ApiError ? error : apiErrors.internal(String(error)))));

  function attachAgentStream(opened: Duplex): void {
    const decoder = new ChannelFrameDecoder();
    opened.on('data', (chunk: Buffer) => {
      if (finished) return;
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch (error) {
        finish(channelStatusOfError(apiErrors.internal(`the agent of node "${options.node}" sent a malformed frame: ${(error as Error).message}`)));
        return;
      }
      for (const frame of frames) {
        if (frame.channel === streamChannels.status) return finish(channelStatusOf(parseStreamStatus(frame.payload)));
        if (frame.channel !== streamChannels.stdout && frame.channel !== streamChannels.stderr) continue;
        // In tty mode stderr is merged by the terminal; kubectl would report an unknown stream.
        if (options.tty && frame.channel === streamChannels.stderr) continue;
        if (!sender.send(Buffer.concat([Buffer.from([frame.channel]), frame.payload])) && !outputPaused) {
          outputPaused = true;
          opened.pause();
          sender.onDrain(() => {
            outputPaused = false;
            opened.resume();
          });
        }
      }
    });
    opened.on('end', () => finish(channelStatusOfError(apiErrors.internal(`the agent of node "${options.node}" ended the stream without an exit status`))));
    opened.on('error', (error: Error) => finish(channelStatusOfError(apiErrors.internal(`the stream to the agent of node "${options.node}" broke: ${error.message}`))));
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
