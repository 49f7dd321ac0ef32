/** The agent's rpc server (`node.<N>.rpc`): container logs for `kubectl logs`, pulled chunk by chunk. */
export { startRpcServer } from './rpc-server.js';
export { handleLogs, checkLogsRequest, type LogsHandlerDeps } from './logs-handler.js';
export { parseCriRecord, timestampNanos, logAttempts, instanceFiles, tailCursor, readLogChunk, type CriRecord, type LogFile } from './log-reader.js';
export { rpcServerLimits, logReaderLimits, logsHandlerLimits, checkRpcLimits } from './limits.js';
export { LogsRequestError } from './errors.js';
export { nodeRpcLimits, type LogCursor, type LogsRequest, type LogsReply, type LogsErrorCode, type RpcRequest } from './protocol.js';
