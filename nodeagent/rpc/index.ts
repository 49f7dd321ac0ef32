/** The agent's rpc server (`node.<N>.rpc`: container logs, pulled chunk by chunk) and its stream server (`node.<N>.rpc.stream`: exec, attach, port-forward). */
export { startRpcServer } from './rpc-server.js';
export { handleLogs, checkLogsRequest, type LogsHandlerDeps } from './logs-handler.js';
export { parseCriRecord, timestampNanos, logAttempts, instanceFiles, tailCursor, readLogChunk, type CriRecord, type LogFile } from './log-reader.js';
export { rpcServerLimits, logReaderLimits, logsHandlerLimits, checkRpcLimits } from './limits.js';
export { LogsRequestError } from './errors.js';
export { nodeRpcLimits, type LogCursor, type LogsRequest, type LogsReply, type LogsErrorCode, type RpcRequest } from './protocol.js';
// Exec, attach and port-forward: the member ⇄ agent stream protocol and the agent's stream server.
export { startStreamServer, type StreamServer } from './stream-server.js';
export { checkStreamHeader, findContainer, findSandbox, parseResize, StreamRequestError } from './stream-request.js';
export { streamServerLimits } from './stream-limits.js';
export {
  encodeChannelFrame, encodeChannelFrames, ChannelFrameDecoder, ChannelFrameError, isMemberStreamSubject, streamChannels, streamProtocolLimits,
  type ChannelFrame, type ExecStreamHeader, type PortForwardStreamHeader, type StreamOpenHeader, type StreamRefusalReason, type StreamStatus,
} from './stream-protocol.js';
