/**
 * The member side of the member ⇄ agent stream transport (nodeagent/rpc/stream-protocol.ts): one
 * StreamEndpoint per member on `member.<self>.stream` (it only opens: agents never open streams
 * to members), each open sent to `node.<N>.rpc.stream` with the StreamOpenHeader. A port, so the
 * WebSocket sessions are tested against an in-memory fake.
 *
 * Decision: every way an open fails becomes the ApiError the user reads (`toApiError`): the
 * agent's refusal reasons map to Kubernetes' codes (404 pod gone, 400 container, 429 busy), and
 * an agent that does not answer is a 500 naming the node and subject, as pods/log says it.
 */
import type { Duplex } from 'node:stream';
import type { Bus, Clock, Logger } from '../../../../bus/index.js';
import { subjects } from '../../../../bus/subjects.js';
import { StreamEndpoint, StreamOpenError, StreamRefusedError } from '../../../../bus/stream/index.js';
import type { StreamOpenHeader, StreamRefusalReason } from '../../../../nodeagent/rpc/stream-protocol.js';
import { ApiError, apiErrors } from '../../status.js';
import { streamingLimits } from './limits.js';

export interface NodeStreams {
  /** The subject the agent of `node` accepts streams on (for messages that name it). */
  subjectFor(node: string): string;
  /** A bytes-mode stream to the agent of `node`; rejects with an ApiError (toApiError). */
  open(node: string, header: StreamOpenHeader, signal?: AbortSignal): Promise<Duplex>;
  close(): void;
}

export function busNodeStreams(options: { readonly bus: Bus; readonly cluster: string; readonly self: string; readonly clock: Clock; readonly logger: Logger }): NodeStreams {
  const names = subjects(options.cluster);
  const endpoint = new StreamEndpoint({
    bus: options.bus, clock: options.clock, logger: options.logger, dataSubject: names.memberStream(options.self), streamsMax: streamingLimits.sessionsPerMemberMax * 2,
  });
  return {
    subjectFor: (node) => names.nodeStream(node),
    async open(node, header, signal) {
      const subject = names.nodeStream(node);
      try {
        return await endpoint.open(subject, { mode: 'bytes', header, timeoutMs: streamingLimits.openTimeoutMs, ...(signal !== undefined ? { signal } : {}) });
      } catch (error) {
        throw toApiError(error, { node, subject, pod: header.name });
      }
    },
    close: () => endpoint.close(),
  };
}

const refusalStatus: Readonly<Record<StreamRefusalReason, number>> = {
  podNotFound: 404, containerNotFound: 400, notRunning: 400, unsupported: 400, badRequest: 400, forbidden: 403, busy: 429,
};

/** The Status for a failed open: the agent's refusal, or why no agent answered. */
export function toApiError(error: unknown, where: { readonly node: string; readonly subject: string; readonly pod: string }): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof StreamRefusedError) {
    const detail = error.message.replace(/^stream open on \S+ refused \([^)]*\): /, '');
    const status = (refusalStatus as Record<string, number | undefined>)[error.reason] ?? (error.reason === 'tooManyStreams' ? 429 : 500);
    switch (status) {
      case 404: return apiErrors.notFound('pods', '', where.pod);
      case 400: return apiErrors.badRequest(detail);
      case 403: return apiErrors.forbidden(detail);
      case 429: return apiErrors.tooManyRequests(1, `the agent of node "${where.node}" serves too many streams: ${detail}`);
      default: return apiErrors.internal(`the agent of node "${where.node}" refused the stream (${error.reason}): ${detail}`);
    }
  }
  if (error instanceof StreamOpenError) {
    if (error.reason === 'tooManyStreams') return apiErrors.tooManyRequests(1, 'this API server holds too many streams to node agents; retry later');
    const why = error.reason === 'noResponders' ? 'no agent is connected'
      : error.reason === 'timeout' ? `no answer within ${streamingLimits.openTimeoutMs} ms`
        : error.reason === 'forbidden' ? 'this API server may not open streams there'
          : 'the request was cancelled';
    return apiErrors.internal(`the agent of node "${where.node}" does not answer on ${where.subject}: ${why}`);
  }
  return apiErrors.internal(`stream to the agent of node "${where.node}" failed: ${error instanceof Error ? error.message : String(error)}`);
}
