/**
 * One `kubectl port-forward` connection after the WebSocket handshake (subprotocol
 * SPDY/3.1+portforward.k8s.io): the messages carry a SPDY/3.1 byte stream (spdy-frames.ts), in
 * which kubectl opens, per local TCP connection, an error stream and a data stream paired by
 * `requestid`, naming the pod port in their headers (K8S-STREAMING.md §4). Each data stream is
 * one member ⇄ agent bus stream (`op: 'portforward'`): SPDY DATA ⇄ channel 0 / channel 1 frames.
 *
 * Decision: frames are handled strictly in order, one at a time (a SYN_STREAM waits for its
 * header block to inflate: the zlib state carries over between frames), while opening an agent
 * stream does not hold the queue; data for a stream whose agent stream is still opening waits in
 * a bounded buffer.
 *
 * Decision: an agent failure is written as text on the pair's error stream, as the kubelet does;
 * kubectl then reports it and drops the connection ("lost connection to pod").
 */
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { Logger } from '../../../../bus/index.js';
import { ChannelFrameDecoder, encodeChannelFrame, encodeChannelFrames, streamChannels } from '../../../../nodeagent/rpc/stream-protocol.js';
import { ApiError } from '../../status.js';
import { streamingLimits } from './limits.js';
import {
  SpdyFrameReader, SpdyProtocolError, encodeDataFrame, encodeGoAway, encodeRstStream, encodeSynReply, spdyRstStatus, type SpdyFrame,
} from './spdy-frames.js';
import { HeaderBlockInflater, parseHeaderBlock } from './spdy-headers.js';
import { WebSocketSender } from './websocket-sender.js';

export interface PortForwardSessionOptions {
  /** Opens the agent stream to `port` of the pod; rejects with the ApiError to report. */
  readonly open: (port: number) => Promise<Duplex>;
  /** For error texts, as the kubelet words them. */
  readonly pod: { readonly namespace: string; readonly name: string; readonly uid: string };
  readonly logger: Logger;
  /** Called once when the connection is over. */
  readonly onEnd: () => void;
}

interface DataStream {
  readonly id: number;
  readonly requestId: string;
  readonly port: number;
  bus: Duplex | null;
  /** Client bytes (already channel frames) waiting for the agent stream to open; past the bound the WebSocket is not read. */
  pending: Buffer[];
  pendingBytes: number;
  clientFinished: boolean;
  closed: boolean;
}

export function runPortForwardSession(ws: WebSocket, options: PortForwardSessionOptions): void {
  const sender = new WebSocketSender(ws, streamingLimits.webSocketSendBufferBytesMax);
  const reader = new SpdyFrameReader(streamingLimits.spdyFramePayloadMax);
  const inflater = new HeaderBlockInflater(streamingLimits.spdyHeaderBlockBytesMax);
  const dataStreams = new Map<number, DataStream>();
  /** requestid → the error stream's id. */
  const errorStreams = new Map<string, number>();
  /** Error texts for a requestid whose error stream has not been opened yet. */
  const pendingErrors = new Map<string, string>();
  let repliedOnce = false;
  let queue: Promise<void> = Promise.resolve();
  let queuedBytes = 0;
  let over = false;
  /** Agent streams whose write() said "full": the WebSocket is not read until they drain. */
  const blockedStreams = new Set<object>();
  /** Agent streams paused because the WebSocket's send queue is full. */
  const pausedStreams = new Set<Duplex>();

  const send = (frame: Buffer): boolean => sender.send(frame);

  const shutdown = (why: string | null): void => {
    if (over) return;
    over = true;
    for (const stream of dataStreams.values()) stream.bus?.destroy();
    dataStreams.clear();
    inflater.close();
    if (why !== null) options.logger.debug('port-forward connection ended', { pod: options.pod.name, why });
    if (ws.readyState === ws.OPEN) ws.close(1000);
    options.onEnd();
  };

  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (!isBinary || over) return;
    const chunk = toBuffer(data);
    queuedBytes += chunk.length;
    updateReading();
    queue = queue.then(async () => {
      queuedBytes -= chunk.length;
      updateReading();
      if (over) return;
      try {
        for (const frame of reader.push(chunk)) await handle(frame);
      } catch (error) {
        if (!(error instanceof SpdyProtocolError)) throw error;
        send(encodeGoAway(0, spdyRstStatus.protocolError));
        shutdown(error.message);
      }
    }).catch((error: unknown) => {
      options.logger.warn('port-forward connection failed', { pod: options.pod.name, error: String(error) });
      shutdown(String(error));
    });
  });
  ws.on('close', () => shutdown(null));
  ws.on('error', (error) => options.logger.debug('port-forward websocket error', { pod: options.pod.name, error: error.message }));

  async function handle(frame: SpdyFrame): Promise<void> {
    switch (frame.type) {
      case 'synStream': return synStream(frame.streamId, await inflater.inflateBlock(frame.headerBlock));
      case 'data': return data(frame.streamId, frame.data, frame.fin);
      case 'rstStream': {
        const stream = dataStreams.get(frame.streamId);
        if (stream !== undefined) closeDataStream(stream, false);
        return;
      }
      case 'ping':
        send(frame.raw);
        return;
      case 'goAway': return shutdown('the client said goodbye');
      case 'ignored': return;
    }
  }

  function synStream(id: number, block: Buffer): void {
    const headers = parseHeaderBlock(block, streamingLimits.spdyHeaderPairsMax);
    const one = (name: string): string => headers.get(name)?.[0] ?? '';
    const type = one('streamtype');
    const requestId = one('requestid');
    const portText = one('port');
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
    if ((type !== 'error' && type !== 'data') || !(port >= 1 && port <= 65535)) {
      send(encodeRstStream(id, spdyRstStatus.protocolError));
      return;
    }
    if (type === 'data' && dataStreams.size >= streamingLimits.portForwardStreamsPerConnectionMax) {
      send(encodeRstStream(id, spdyRstStatus.refusedStream));
      return;
    }
    send(encodeSynReply(id, !repliedOnce));
    repliedOnce = true;
    if (type === 'error') {
      errorStreams.set(requestId, id);
      const waiting = pendingErrors.get(requestId);
      if (waiting !== undefined) {
        pendingErrors.delete(requestId);
        writeError(requestId, waiting);
      }
      return;
    }
    const stream: DataStream = { id, requestId, port, bus: null, pending: [], pendingBytes: 0, clientFinished: false, closed: false };
    dataStreams.set(id, stream);
    options.open(port).then((bus) => attach(stream, bus), (error: unknown) => {
      const message = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
      writeError(requestId, `error forwarding port ${port} to pod ${options.pod.namespace}/${options.pod.name}, uid ${options.pod.uid}: ${message}`);
      closeDataStream(stream, true);
    });
  }

  function data(id: number, bytes: Buffer, fin: boolean): void {
    const stream = dataStreams.get(id);
    // The error stream's only DATA is kubectl's empty FIN; data for a closed stream is dropped.
    if (stream === undefined) return;
    const frames = encodeChannelFrames(streamChannels.stdin, bytes);
    if (fin) {
      stream.clientFinished = true;
      frames.push(encodeChannelFrame(streamChannels.close, Uint8Array.of(streamChannels.stdin)));
    }
    if (stream.bus === null) {
      stream.pending.push(...frames);
      stream.pendingBytes += bytes.length;
      if (stream.pendingBytes > streamingLimits.pendingClientBytesMax) {
        blockedStreams.add(stream);
        updateReading();
      }
      return;
    }
    writeToAgent(stream.bus, frames);
  }

  /**
   * The WebSocket carries every data stream of the connection, so it is read only while no agent
   * stream is full and the frame queue is under its bound (SPDY as kubectl speaks it has no
   * per-stream flow control: one slow pod port slows the connection, as with the kubelet).
   */
  function updateReading(): void {
    if (blockedStreams.size > 0 || queuedBytes > streamingLimits.pendingClientBytesMax) ws.pause();
    else ws.resume();
  }

  function writeToAgent(bus: Duplex, frames: readonly Buffer[]): void {
    let writable = true;
    for (const frame of frames) writable = bus.write(frame) && writable;
    if (!writable && !blockedStreams.has(bus)) {
      blockedStreams.add(bus);
      updateReading();
      const unblock = (): void => {
        blockedStreams.delete(bus);
        updateReading();
      };
      bus.once('drain', unblock);
      bus.once('close', unblock);
    }
  }

  function attach(stream: DataStream, bus: Duplex): void {
    if (stream.closed || over) {
      bus.destroy();
      return;
    }
    stream.bus = bus;
    const decoder = new ChannelFrameDecoder();
    bus.on('data', (chunk: Buffer) => {
      if (stream.closed) return;
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch (error) {
        writeError(stream.requestId, `the node agent sent a malformed frame: ${(error as Error).message}`);
        closeDataStream(stream, true);
        return;
      }
      for (const frame of frames) {
        if (frame.channel === streamChannels.stdout) {
          if (!send(encodeDataFrame(stream.id, frame.payload, false)) && !pausedStreams.has(bus)) {
            pausedStreams.add(bus);
            bus.pause();
            sender.onDrain(() => {
              pausedStreams.delete(bus);
              bus.resume();
            });
          }
        } else if (frame.channel === streamChannels.status) {
          writeError(stream.requestId, frame.payload.toString('utf8'));
        }
      }
    });
    bus.on('end', () => closeDataStream(stream, true));
    bus.on('error', (error: Error) => {
      if (stream.closed) return;
      writeError(stream.requestId, `the stream to the node agent broke: ${error.message}`);
      closeDataStream(stream, true);
    });
    const pending = stream.pending;
    stream.pending = [];
    stream.pendingBytes = 0;
    blockedStreams.delete(stream);
    updateReading();
    if (pending.length > 0) writeToAgent(bus, pending);
  }

  /** Bytes on the pair's error stream: kubectl reports them and drops the connection. */
  function writeError(requestId: string, text: string): void {
    const errorId = errorStreams.get(requestId);
    if (errorId === undefined) {
      pendingErrors.set(requestId, text);
      return;
    }
    send(encodeDataFrame(errorId, Buffer.from(text, 'utf8'), false));
  }

  /** FIN on the data stream, then on its error stream (the kubelet's order); `finish` false after the client's RST. */
  function closeDataStream(stream: DataStream, finish: boolean): void {
    if (stream.closed) return;
    stream.closed = true;
    dataStreams.delete(stream.id);
    if (blockedStreams.delete(stream)) updateReading();
    // A clean end closes the agent stream both ways; the client's RST resets it (the agent then drops the pod connection).
    if (stream.bus !== null && !stream.bus.destroyed) {
      if (finish) stream.bus.end();
      else stream.bus.destroy();
    }
    if (!finish || over) return;
    send(encodeDataFrame(stream.id, Buffer.alloc(0), true));
    const errorId = errorStreams.get(stream.requestId);
    errorStreams.delete(stream.requestId);
    if (errorId !== undefined) send(encodeDataFrame(errorId, Buffer.alloc(0), true));
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
