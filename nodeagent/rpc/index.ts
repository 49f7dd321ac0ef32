/** The agent's rpc server (`node.<N>.rpc`): container logs for `kubectl logs`, pulled chunk by chunk. */
export { startRpcServer, rpcServerLimits } from './rpc-server.js';
export { handleLogs, checkLogsRequest, logsHandlerLimits, type LogsHandlerDeps } from './logs-handler.js';
export { parseCriRecord, timestampNanos, logAttempts, instanceFiles, tailCursor, readLogChunk, logReaderLimits, type CriRecord, type LogFile } from './log-reader.js';
export { LogsRequestError } from './errors.js';
export { nodeRpcLimits, type LogCursor, type LogsRequest, type LogsReply, type LogsErrorCode, type RpcRequest } from './protocol.js';
