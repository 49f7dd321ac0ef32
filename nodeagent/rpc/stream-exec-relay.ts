/**
 * Relays one exec or attach session over a member's bus stream (stream-protocol.ts): the
 * process's stdout and stderr become channel 1 and 2 frames (a terminal has only 1), stdin frames
 * feed its stdin, `close` [0] ends its stdin, resize frames resize its terminal; when it has
 * exited and all its output was sent, one status frame on channel 3, then the stream ends.
 *
 * Flow control, end to end: while the bus stream's `write()` is false (the member, hence
 * kubectl, is not reading), the process's output is paused, so its pipe fills and the process
 * blocks on write, as it would with a slow terminal; while the process's stdin is full, the bus
 * stream is paused, which withholds credit from the member. No buffer here grows past a frame.
 *
 * The member's stream resetting (kubectl gone, member down) closes the session: an exec'd process
 * is killed (as a closed terminal would hang it up), an attach detaches; the container lives on.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../../bus/logger.js';
import type { ExecSession } from '../runtime/types.js';
import { encodeChannelFrames, readChannelFrames, streamChannels, writeOrPause, type StreamStatus } from './stream-protocol.js';
import { parseResize } from './stream-request.js';

/** What the relay needs of a session: the contract's ExecSession (its optional `close` ends it early). */
export type RelayedSession = ExecSession;

export interface ExecRelayOptions {
  /** Send the process's stdout and stderr (kubectl's `stdout`/`stderr` flags); unsent output is still read, so the process never blocks on it. */
  readonly stdout: boolean;
  readonly stderr: boolean;
  /** attach: the status says only that the session ended well (Kubernetes answers Success to an attach whose container exited). */
  readonly op: 'exec' | 'attach';
  readonly logger: Logger;
}

/** Sends `status` on channel 3 and ends the stream: how every exec/attach stream ends when it ends well. */
export function endWithStatus(stream: Duplex, status: StreamStatus): void {
  if (stream.destroyed || stream.writableEnded) return;
  for (const frame of encodeChannelFrames(streamChannels.status, Buffer.from(JSON.stringify(status)))) stream.write(frame);
  stream.end();
}

interface OutputSource {
  readonly readable: NodeJS.ReadableStream;
  readonly channel: number;
  readonly send: boolean;
}

/**
 * Sends each source's output as frames of its channel, pausing every source while the stream's
 * write() is false. Returns, per source, a promise of its end, and `resume` to drain them all
 * (the stream is gone: output is dropped so the process never blocks on a full pipe).
 */
function pumpOutputs(stream: Duplex, sources: readonly OutputSource[], dropping: () => boolean, logger: Logger): { readonly ended: Promise<void>[]; readonly resume: () => void } {
  let waitingDrain = false;
  const resume = () => {
    waitingDrain = false;
    for (const source of sources) source.readable.resume();
  };
  const ended = sources.map((source) => new Promise<void>((done) => {
    source.readable.on('end', done);
    source.readable.on('close', done);
    source.readable.on('error', (error: Error) => {
      logger.debug('session output failed', { error: error.message });
      done();
    });
    source.readable.on('data', (chunk: Buffer | string) => {
      if (!source.send || dropping()) return;
      let writable = true;
      for (const frame of encodeChannelFrames(source.channel, typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) writable = stream.write(frame) && writable;
      if (!writable && !waitingDrain) {
        waitingDrain = true;
        for (const each of sources) each.readable.pause();
        stream.once('drain', resume);
      }
    });
  }));
  return { ended, resume };
}

/** Feeds the member's frames to the session: stdin (pausing the stream while stdin is full), its close, resizes. Returns `endStdin`. */
function feedInput(stream: Duplex, session: RelayedSession, logger: Logger): () => void {
  const stdin = session.stdin;
  // EPIPE once the process exited: its input no longer matters.
  stdin?.on('error', (error: Error) => logger.debug('session stdin failed', { error: error.message }));
  const endStdin = () => {
    if (stdin !== null && !(stdin as { writableEnded?: boolean }).writableEnded) stdin.end();
  };
  readChannelFrames(stream, (frame) => {
    if (frame.channel === streamChannels.stdin) {
      if (stdin !== null && frame.payload.length > 0) writeOrPause(stream, stdin, frame.payload);
    } else if (frame.channel === streamChannels.resize) {
      const size = parseResize(frame.payload);
      if (size !== null) session.resize(size.columns, size.rows);
    } else if (frame.channel === streamChannels.close && frame.payload[0] === streamChannels.stdin) {
      endStdin();
    }
    // Other channels from a member mean nothing here; ignored as the kubelet ignores them.
  }, (error) => stream.destroy(error));
  // The member sends nothing more: the process's input is over.
  stream.on('end', endStdin);
  return endStdin;
}

/** Resolves once the session is over: its status sent and our side of the stream ended, or the stream reset. */
export function relayExec(stream: Duplex, session: RelayedSession, options: ExecRelayOptions): Promise<void> {
  return new Promise((resolve) => {
    let over = false;
    const sources: OutputSource[] = [
      { readable: session.stdout, channel: streamChannels.stdout, send: options.stdout },
      ...(session.stderr === null ? [] : [{ readable: session.stderr, channel: streamChannels.stderr, send: options.stderr }]),
    ];
    const outputs = pumpOutputs(stream, sources, () => over, options.logger);
    const endStdin = feedInput(stream, session, options.logger);

    const abort = (why: string) => {
      if (over) return;
      over = true;
      options.logger.debug('session stream ended early', { why });
      session.close?.();
      // A runtime without close: keep draining its output so the process never blocks on a full pipe.
      outputs.resume();
      endStdin();
      resolve();
    };
    stream.on('error', (error: Error) => abort(error.message));
    stream.on('close', () => abort('closed'));

    void Promise.all([session.exit, ...outputs.ended]).then(([exitCode]) => {
      if (over) return;
      over = true;
      endWithStatus(stream, { exitCode: options.op === 'attach' ? 0 : exitCode });
      // Over once our side is sent (FIN): the member's end of the stream is its own business.
      if (stream.destroyed || stream.writableFinished) resolve();
      stream.once('finish', () => resolve());
      stream.once('close', () => resolve());
    }, (error: unknown) => {
      if (over) return;
      over = true;
      endWithStatus(stream, { error: error instanceof Error ? error.message : String(error) });
      resolve();
    });
  });
}
