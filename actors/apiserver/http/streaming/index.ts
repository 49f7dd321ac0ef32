/**
 * The API server's streaming verbs: `kubectl exec`, `attach` and `port-forward` over WebSocket,
 * carried to the pod's node agent on member ⇄ agent bus streams. Code outside this folder imports
 * only from here.
 */
export { createStreamingFront, refuse, execSubprotocol, portForwardSubprotocol, type StreamingFront, type StreamingFrontOptions } from './upgrade.js';
export { busNodeStreams, toApiError, type NodeStreams } from './node-streams.js';
export { parseStreamPath, parseExecOptions, planStream, spdyRefusal, streamVerbs, type StreamVerb, type StreamPath, type ExecOptions } from './stream-request.js';
export { channelStatusOf, channelStatusOfError, parseStreamStatus, type ChannelStatus } from './exec-status.js';
export { SpdyFrameReader, SpdyProtocolError, encodeDataFrame, encodeSynReply, encodeRstStream, encodeGoAway, spdyControlTypes, type SpdyFrame } from './spdy-frames.js';
export { HeaderBlockInflater, parseHeaderBlock, spdyDictionary, adler32 } from './spdy-headers.js';
export { streamingLimits, checkStreamingLimits } from './limits.js';
export { upgradeObserver, type UpgradeObserver } from './observe-upgrade.js';
