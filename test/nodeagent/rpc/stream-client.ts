/**
 * The member's side of an agent stream, for tests: reads channel frames off a bus stream into
 * per-channel buffers, and sends stdin, close and resize frames as the API server relays them.
 */
import type { Duplex } from 'node:stream';
import { ChannelFrameDecoder, encodeChannelFrame, encodeChannelFrames, streamChannels, type StreamStatus } from '../../../nodeagent/rpc/stream-protocol.js';

export interface FrameReader {
  text(channel: number): string;
  status(): StreamStatus | null;
  ended(): boolean;
  error(): Error | null;
}

export function readFrames(stream: Duplex): FrameReader {
  const decoder = new ChannelFrameDecoder();
  const chunks = new Map<number, Buffer[]>();
  let ended = false;
  let error: Error | null = null;
  stream.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      const list = chunks.get(frame.channel) ?? [];
      list.push(Buffer.from(frame.payload));
      chunks.set(frame.channel, list);
    }
  });
  stream.on('end', () => { ended = true; });
  stream.on('error', (e: Error) => { error = e; });
  const text = (channel: number) => Buffer.concat(chunks.get(channel) ?? []).toString('utf8');
  return {
    text,
    status: () => {
      const raw = text(streamChannels.status);
      return raw === '' ? null : JSON.parse(raw) as StreamStatus;
    },
    ended: () => ended,
    error: () => error,
  };
}

export function sendStdin(stream: Duplex, text: string | Buffer): boolean {
  let ok = true;
  for (const frame of encodeChannelFrames(streamChannels.stdin, typeof text === 'string' ? Buffer.from(text) : text)) ok = stream.write(frame) && ok;
  return ok;
}

export function sendStdinEof(stream: Duplex): void {
  stream.write(encodeChannelFrame(streamChannels.close, Buffer.from([streamChannels.stdin])));
}

export function sendResize(stream: Duplex, columns: number, rows: number): void {
  stream.write(encodeChannelFrame(streamChannels.resize, Buffer.from(`${JSON.stringify({ Width: columns, Height: rows })}\n`)));
}
