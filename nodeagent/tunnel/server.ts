/**
 * The tunnel's far end on every agent: accepts opens on `node.<self>.tunnel` for pods this node
 * runs now, connects to the pod locally and splices the connection to the stream.
 *
 * Who may open is decided by NATS permissions (only agents and members may publish there,
 * bus/nats-auth.ts); what may be reached is decided here, per open, from the runtime's own list of
 * ready pod sandboxes (target.ts), and refused with a typed reason otherwise.
 */
import type dgram from 'node:dgram';
import type net from 'node:net';
import type { AgentContext } from '../agent-context.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { StreamEndpoint, type AcceptDecision, type IncomingOpen, type StreamTuning } from '../../bus/stream/index.js';
import { tunnelLimits } from './limits.js';
import { connectTcp, connectUdp, relayUdp, spliceTcp } from './local-connect.js';
import { tunnelSubject } from './subjects.js';
import { PodSandboxView } from './pod-sandboxes.js';
import { parseTarget } from './target.js';

export interface TunnelServerDeps {
  readonly runtime: Pick<ContainerRuntime, 'listPodSandboxes'>;
  /** The node's own addresses (`--node-ip`): never a tunnel target, even when a pod shares one. */
  readonly nodeAddresses?: readonly string[];
  /** Tests shorten the keepalive and peer timeout. */
  readonly tuning?: StreamTuning;
  readonly connectTimeoutMs?: number;
  readonly udpIdleMs?: number;
}

export interface TunnelServer {
  /** Streams open now (accepted, not yet ended). */
  streamCount(): number;
  /** Streams accepted since the start (tests and benchmarks prove the tunnel path was taken). */
  acceptedTotal(): number;
  /** Resets every open stream (their dialers hear it at once) and stops accepting. */
  stop(): Promise<void>;
}

export function startTunnelServer(ctx: Pick<AgentContext, 'bus' | 'cluster' | 'nodeName' | 'clock' | 'logger'>, deps: TunnelServerDeps): TunnelServer {
  const logger = ctx.logger.child({ part: 'tunnel-server' });
  const endpoint = new StreamEndpoint({
    bus: ctx.bus, clock: ctx.clock, logger, dataSubject: tunnelSubject(ctx.cluster, ctx.nodeName),
    ...(deps.tuning !== undefined ? { tuning: deps.tuning } : {}),
  });
  const pods = new PodSandboxView(deps.runtime, { clock: ctx.clock, freshMs: tunnelLimits.sandboxListFreshMs, ...(deps.nodeAddresses !== undefined ? { nodeAddresses: deps.nodeAddresses } : {}) });
  let droppedDatagrams = 0;
  let accepted = 0;
  const accepting = (target: { readonly address: string; readonly port: number; readonly protocol: string }): void => {
    accepted++;
    // Debug: one line per tunnelled connection (`kubus agent --log-level debug` shows which path traffic took).
    logger.debug('tunnel stream accepted', { address: target.address, port: target.port, protocol: target.protocol });
  };
  const accept = async (open: IncomingOpen): Promise<AcceptDecision> => {
    const parsed = parseTarget(open.header, ctx.nodeName);
    if (!parsed.accept) return refuse(parsed.reason, parsed.message);
    if ((parsed.target.protocol === 'UDP') !== (open.mode === 'datagram')) return refuse('badTarget', `${parsed.target.protocol} needs a ${parsed.target.protocol === 'UDP' ? 'datagram' : 'byte'} stream`);
    let decision: Awaited<ReturnType<typeof pods.decide>>;
    try {
      decision = await pods.decide(parsed.target);
    } catch (error) {
      // The runtime did not answer (stalled, or within sandboxListTimeoutMs): refuse now rather than hold the open.
      return refuse('connectFailed', `node ${ctx.nodeName} cannot check its pods now: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!decision.accept) {
      logger.info('tunnel open refused', { reason: decision.reason, address: parsed.target.address, port: parsed.target.port });
      return refuse(decision.reason, decision.message);
    }
    const target = decision.target;
    if (target.protocol === 'TCP') {
      let socket: net.Socket;
      try {
        socket = await connectTcp(target, { timeoutMs: deps.connectTimeoutMs ?? tunnelLimits.connectTimeoutMs, clock: ctx.clock });
      } catch (error) {
        return refuse('connectFailed', `${target.address}:${target.port}: ${error instanceof Error ? error.message : String(error)}`);
      }
      return { accept: true, onStream: (stream) => { accepting(target); spliceTcp(socket, stream); }, abandon: () => socket.destroy() };
    }
    let socket: dgram.Socket;
    try {
      socket = await connectUdp(target);
    } catch (error) {
      return refuse('connectFailed', `${target.address}:${target.port}/UDP: ${error instanceof Error ? error.message : String(error)}`);
    }
    return {
      accept: true,
      onStream: (stream) => {
        accepting(target);
        relayUdp(socket, stream, { idleMs: deps.udpIdleMs ?? tunnelLimits.udpIdleMs, clock: ctx.clock, onDrop: () => { droppedDatagrams++; } });
      },
      abandon: () => socket.close(),
    };
  };
  endpoint.listen(accept);
  return {
    streamCount: () => endpoint.streamCount(),
    acceptedTotal: () => accepted,
    async stop() {
      endpoint.close();
      if (droppedDatagrams > 0) logger.info('tunnel UDP datagrams dropped while a stream was full', { dropped: droppedDatagrams });
    },
  };
}

function refuse(reason: string, message: string): AcceptDecision {
  return { accept: false, reason, message };
}
