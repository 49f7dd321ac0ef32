/**
 * What kubectl reads on channel 3 (K8S-STREAMING.md §3, client-go remotecommand/v4.go): the
 * agent's `StreamStatus` becomes a Kubernetes Status; a non-zero exit is `NonZeroExitCode` with an
 * `ExitCode` cause (kubectl exits with it), any other failure is printed as `error: <message>`.
 * Pure functions, unit-tested.
 */
import type { StreamStatus } from '../../../../nodeagent/rpc/stream-protocol.js';
import type { ApiError } from '../../status.js';

export interface ChannelStatus {
  readonly metadata: Record<string, never>;
  readonly status: 'Success' | 'Failure';
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
  readonly details?: { readonly causes: readonly { readonly reason: string; readonly message: string }[] };
}

export const successStatus: ChannelStatus = { metadata: {}, status: 'Success' };

/** The Status for what the agent reported; an exit code outside 0-255 (a signal) is a plain failure. */
export function channelStatusOf(status: StreamStatus): ChannelStatus {
  if ('exitCode' in status) {
    const code = status.exitCode;
    if (code === 0) return successStatus;
    if (Number.isInteger(code) && code > 0 && code <= 255) {
      return {
        metadata: {}, status: 'Failure', message: `command terminated with non-zero exit code: exit status ${code}`, reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
      };
    }
    return { metadata: {}, status: 'Failure', message: `command terminated abnormally (exit status ${code})`, reason: 'InternalError', code: 500 };
  }
  return { metadata: {}, status: 'Failure', message: status.error, reason: 'InternalError', code: 500 };
}

/** An error after the handshake (the agent refused, or the stream broke) as the channel's Status. */
export function channelStatusOfError(error: ApiError): ChannelStatus {
  return { metadata: {}, status: 'Failure', message: error.message, reason: error.reason, code: error.httpStatus };
}

/** Parses the agent's status frame; a malformed one is reported, never trusted. */
export function parseStreamStatus(payload: Uint8Array): StreamStatus {
  try {
    const value = JSON.parse(Buffer.from(payload).toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      if (typeof record['exitCode'] === 'number') return { exitCode: record['exitCode'] };
      if (typeof record['error'] === 'string') return { error: record['error'] };
    }
  } catch {
    // Falls through to the report below.
  }
  return { error: 'the node agent sent a malformed exit status' };
}
