/**
 * Bidirectional, flow-controlled byte streams over NATS core subjects (the tunnel between agents,
 * and next the members' exec/attach/port-forward streams to agents). Code outside this folder
 * imports only from here.
 */
export { StreamEndpoint, type AcceptDecision, type IncomingOpen, type OpenOptions, type StreamEndpointOptions } from './endpoint.js';
export { BusStream, type BusStreamOptions } from './bus-stream.js';
export { StreamCore, type StreamAction, type StreamMode, type StreamState, type StreamCoreOptions } from './stream-core.js';
export { encodeFrame, decodeFrame, dataHeaderBytes, type Frame } from './frames.js';
export { StreamResetError, StreamRefusedError, StreamOpenError, type StreamResetReason } from './errors.js';
export { streamLimits, defaultStreamTuning, checkStreamTuning, endpointPendingMax, type StreamTuning } from './limits.js';
