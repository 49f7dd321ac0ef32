/**
 * The agent stream server's own bounds (STYLE rule 5). What both ends of the member ⇄ agent
 * protocol share (frame size, streams per node, open timeout) is in stream-protocol.ts.
 */
import { assert } from '../../bus/assert.js';
import { streamLimits } from '../../bus/stream/index.js';
import { streamProtocolLimits } from './stream-protocol.js';

export const streamServerLimits = {
  /**
   * Streams the endpoint itself holds: above the sessions bound (streamsPerNodeMax) so that the
   * server's own `busy` refusal, which the API server maps to 429, answers first; the margin
   * covers streams whose session ended while their last frames are still being exchanged.
   */
  endpointStreamsMax: streamProtocolLimits.streamsPerNodeMax * 2,
  /** Bytes of a channel frame's JSON (resize) read: kubectl sends `{"Width":W,"Height":H}`, a few dozen. */
  controlPayloadBytesMax: 256,
  /** Bytes of an error text sent on channel 3: a runtime's message is shown to the user, not stored whole. */
  errorTextBytesMax: 1024,
  /** Largest terminal accepted in a resize (columns or rows): what `stty` takes, and far beyond any screen. */
  terminalSizeMax: 10_000,
} as const;

assert(streamServerLimits.endpointStreamsMax <= streamLimits.streamsMax, 'stream server: endpointStreamsMax must fit the bus endpoint bound');
