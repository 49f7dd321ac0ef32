/**
 * Relays one port-forward over a member's bus stream: channel 0 frames are written to the pod's
 * socket, what the pod sends becomes channel 1 frames; the client's half-close (`close` [0])
 * ends the socket's write side; the pod closing its side ends the stream; a broken connection
 * sends its error text on channel 3 (kubectl then reports "an error occurred forwarding") and
 * ends the stream. Flow control both ways: the socket is paused while the stream's write() is
 * false, the stream while the socket's is.
 */
import type { Duplex } from 'node:stream';
import type { Logger } from '../../bus/logger.js';
import { encodeChannelFrames, readChannelFrames, streamChannels, writeOrPause } from './stream-protocol.js';
import { errorText } from './stream-request.js';

/** Sends `error` as text on channel 3 and ends the stream (a port-forward's failure, as kubectl expects it). */
export function endWithError(stream: Duplex, error: unknown): void {
  if (stream.destroyed || stream.writableEnded) return;
  for (const frame of encodeChannelFrames(streamChannels.status, Buffer.from(errorText(error)))) stream.write(frame);
  stream.end();
}

/** Resolves once the socket is closed (the stream is then ended or reset). */
export function relayPortForward(stream: Duplex, socket: Duplex, logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      resolve();
    };
    let waitingDrain = false;
    socket.on('data', (chunk: Buffer) => {
      let writable = true;
      for (const frame of encodeChannelFrames(streamChannels.stdout, chunk)) writable = stream.write(frame) && writable;
      if (!writable && !waitingDrain) {
        waitingDrain = true;
        socket.pause();
        stream.once('drain', () => {
          waitingDrain = false;
          socket.resume();
        });
      }
    });
    // The pod closed its side: what it sent is queued on the stream before the FIN.
    socket.on('end', () => {
      if (!stream.destroyed && !stream.writableEnded) stream.end();
    });
    socket.on('error', (error: Error) => {
      logger.debug('port-forward connection failed', { error: error.message });
      endWithError(stream, error);
      socket.destroy();
    });
    // The socket is the session's resource: once it is closed (and our side of the stream ended) the session is over.
    socket.on('close', () => {
      if (!stream.destroyed && !stream.writableEnded) stream.end();
      finish();
    });

    const endSocket = () => {
      if (!socket.destroyed && !socket.writableEnded) socket.end();
    };
    readChannelFrames(stream, (frame) => {
      if (frame.channel === streamChannels.stdin) {
        if (frame.payload.length > 0 && !socket.destroyed) writeOrPause(stream, socket, frame.payload);
      } else if (frame.channel === streamChannels.close && frame.payload[0] === streamChannels.stdin) {
        endSocket();
      }
    }, (error) => stream.destroy(error));
    stream.on('end', endSocket);
    stream.on('error', (error: Error) => {
      logger.debug('port-forward stream reset', { error: error.message });
      socket.destroy();
      finish();
    });
    stream.on('close', () => {
      socket.destroy();
      finish();
    });
  });
}
