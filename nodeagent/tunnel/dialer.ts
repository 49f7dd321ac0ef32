/**
 * The tunnel's near end: opens a stream to the agent of `target.node` (its `node.<N>.tunnel`),
 * which connects to the pod and answers; the stream is then the connection (TCP) or the flow of
 * datagrams (UDP). The dialer's frames arrive on `node.<self>.tunnel.dialed.<id>`: one endpoint,
 * one subscription, made on the first dial.
 */
import type { Duplex } from 'node:stream';
import type { AgentContext } from '../agent-context.js';
import { StreamEndpoint, StreamOpenError, StreamRefusedError, type StreamTuning } from '../../bus/stream/index.js';
import { TunnelRefusedError, TunnelTimeoutError, TunnelUnreachableError } from './errors.js';
import { tunnelLimits } from './limits.js';
import { tunnelDialerSubject, tunnelSubject } from './subjects.js';
import type { TunnelDialer, TunnelTarget } from './types.js';

export interface TunnelDialerOptions {
  /** Tests shorten the keepalive and peer timeout. */
  readonly tuning?: StreamTuning;
}

export interface ClosableTunnelDialer extends TunnelDialer {
  /** Streams open now. */
  streamCount(): number;
  /** Resets every stream this dialer opened. */
  close(): void;
}

export function createTunnelDialer(ctx: Pick<AgentContext, 'bus' | 'cluster' | 'nodeName' | 'clock' | 'logger'>, options: TunnelDialerOptions = {}): ClosableTunnelDialer {
  let endpoint: StreamEndpoint | null = null;
  const endpointNow = (): StreamEndpoint => {
    endpoint ??= new StreamEndpoint({
      bus: ctx.bus, clock: ctx.clock, logger: ctx.logger.child({ part: 'tunnel-dialer' }), dataSubject: tunnelDialerSubject(ctx.cluster, ctx.nodeName),
      ...(options.tuning !== undefined ? { tuning: options.tuning } : {}),
    });
    return endpoint;
  };
  return {
    async dial(target: TunnelTarget, dialOptions?: { readonly timeoutMs?: number; readonly signal?: AbortSignal }): Promise<Duplex> {
      const timeoutMs = dialOptions?.timeoutMs ?? tunnelLimits.dialTimeoutMs;
      let subject: string;
      try {
        subject = tunnelSubject(ctx.cluster, target.node);
      } catch (error) {
        throw new TunnelRefusedError(target, 'badTarget', error instanceof Error ? error.message : String(error), { cause: error });
      }
      try {
        return await endpointNow().open(subject, {
          mode: target.protocol === 'UDP' ? 'datagram' : 'bytes',
          header: { node: target.node, address: target.address, port: target.port, protocol: target.protocol },
          timeoutMs,
          ...(dialOptions?.signal !== undefined ? { signal: dialOptions.signal } : {}),
        });
      } catch (error) {
        throw translate(error, target, timeoutMs);
      }
    },
    streamCount: () => endpoint?.streamCount() ?? 0,
    close: () => endpoint?.close(),
  };
}

function translate(error: unknown, target: TunnelTarget, timeoutMs: number): unknown {
  if (error instanceof StreamRefusedError) return new TunnelRefusedError(target, error.reason, error.message, { cause: error });
  if (!(error instanceof StreamOpenError)) return error;
  switch (error.reason) {
    case 'noResponders':
      return new TunnelUnreachableError(target, { cause: error });
    case 'timeout':
      return new TunnelTimeoutError(target, timeoutMs, { cause: error });
    case 'forbidden':
    case 'tooManyStreams':
      return new TunnelRefusedError(target, error.reason, error.message, { cause: error });
    case 'aborted':
      return error;
  }
}
