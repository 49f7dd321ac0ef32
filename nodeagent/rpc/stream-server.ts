/**
 * The agent's stream server for `kubectl exec`, `attach` and `port-forward` (stream-protocol.ts):
 * a bus stream endpoint on `node.<N>.rpc.stream`. Per open: refuse an opener that is not a
 * member (`forbidden`) and more than `streamsPerNodeMax` sessions (`busy`), check the header,
 * find the pod's running container (exec, attach) or its sandbox (port-forward) by the runtime's
 * labels, start the session, then accept and relay it (stream-exec-relay.ts,
 * stream-port-relay.ts).
 *
 * Decision: the session is started before the open is answered, so what the runtime cannot do
 * at all (hollow: `unsupported`) is a refusal the API server maps to a Status, while what fails
 * in the container (a command that is not there: exit 127 with the shell's message; a port
 * nobody listens on: the error text on channel 3) reaches the user the way Kubernetes reports it.
 *
 * Decision: the NATS permissions are the first check (only members may publish on
 * `node.*.rpc.stream`), the opener's reply subject the second: an agent could not publish there,
 * and a member opens only after RBAC allowed `create pods/exec|attach|portforward`.
 */
import type { Duplex } from 'node:stream';
import { StreamEndpoint, type AcceptDecision, type BusStream, type IncomingOpen } from '../../bus/stream/index.js';
import { subjects } from '../../bus/subjects.js';
import type { Logger } from '../../bus/logger.js';
import type { AgentContext } from '../agent-context.js';
import { ContainerNotFoundError, ContainerStateError, RuntimeUnsupportedError, SandboxNotFoundError } from '../runtime/errors.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { isMemberStreamSubject, streamProtocolLimits, type ExecStreamHeader, type StreamOpenHeader, type StreamRefusalReason } from './stream-protocol.js';
import { checkStreamHeader, errorText, findContainer, findSandbox, StreamRequestError } from './stream-request.js';
import { endWithStatus, relayExec, type RelayedSession } from './stream-exec-relay.js';
import { endWithError, relayPortForward } from './stream-port-relay.js';
import { streamServerLimits } from './stream-limits.js';

type StreamServerContext = Pick<AgentContext, 'bus' | 'cluster' | 'nodeName' | 'clock' | 'logger'>;

/** What was started for an accepted open: a session or socket to relay, or a failure to report on the stream. */
type Started =
  | { readonly kind: 'session'; readonly header: ExecStreamHeader; readonly session: RelayedSession }
  | { readonly kind: 'socket'; readonly socket: Duplex }
  | { readonly kind: 'failedExec'; readonly error: unknown }
  | { readonly kind: 'failedPort'; readonly error: unknown };

export interface StreamServer {
  /** Sessions being accepted or relayed now. */
  sessionCount(): number;
  stop(): Promise<void>;
}

export function startStreamServer(ctx: StreamServerContext, deps: { readonly runtime: ContainerRuntime }): StreamServer {
  const logger = ctx.logger.child({ component: 'stream-server' });
  const endpoint = new StreamEndpoint({
    bus: ctx.bus, clock: ctx.clock, logger, dataSubject: subjects(ctx.cluster).nodeStream(ctx.nodeName), streamsMax: streamServerLimits.endpointStreamsMax,
  });
  let sessions = 0;
  const live = new Set<Promise<void>>();

  const accept = async (open: IncomingOpen): Promise<AcceptDecision> => {
    if (!isMemberStreamSubject(ctx.cluster, open.replyTo)) return refuse('forbidden', 'only control-plane members may open streams to an agent');
    if (open.mode !== 'bytes') return refuse('badRequest', 'exec, attach and port-forward streams are byte streams');
    if (sessions >= streamProtocolLimits.streamsPerNodeMax) return refuse('busy', `node "${ctx.nodeName}" already serves ${streamProtocolLimits.streamsPerNodeMax} exec, attach and port-forward streams`);
    sessions++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      sessions--;
    };
    let started: Started;
    try {
      started = await startSession(deps.runtime, ctx.nodeName, checkStreamHeader(open.header));
    } catch (error) {
      release();
      return refusal(error);
    }
    return {
      accept: true,
      onStream: (stream) => {
        // The relays handle the stream's errors; this keeps an unhandled 'error' from reaching the process.
        stream.on('error', () => undefined);
        const running = relaySession(stream, started, logger).catch((error: unknown) => logger.warn('stream session failed', { error: errorText(error) })).finally(() => {
          release();
          live.delete(running);
        });
        live.add(running);
      },
      abandon: () => {
        discard(started);
        release();
      },
    };
  };

  endpoint.listen(accept);
  return {
    sessionCount: () => sessions,
    stop: async () => {
      // Resets every stream: each relay closes its session (an exec'd process is killed) and settles.
      endpoint.close();
      await Promise.all([...live]);
    },
  };
}

/** Finds the target and starts what the open asks for; throws what is a refusal (refusal()), returns a failure to report on the stream. */
async function startSession(runtime: ContainerRuntime, nodeName: string, header: StreamOpenHeader): Promise<Started> {
  if (header.op === 'portforward') {
    const sandbox = findSandbox(header, await runtime.listPodSandboxes(), nodeName);
    try {
      return { kind: 'socket', socket: await runtime.portForward(sandbox.id, header.port) };
    } catch (error) {
      if (error instanceof RuntimeUnsupportedError || error instanceof SandboxNotFoundError) throw error;
      return { kind: 'failedPort', error };
    }
  }
  const container = findContainer(header, await runtime.listContainers(), await runtime.listPodSandboxes(), nodeName);
  try {
    const session = header.op === 'exec'
      ? await runtime.exec(container.id, { command: header.command, stdin: header.stdin, tty: header.tty })
      : await runtime.attach(container.id, { stdin: header.stdin, tty: header.tty });
    return { kind: 'session', header, session };
  } catch (error) {
    if (error instanceof RuntimeUnsupportedError || error instanceof ContainerNotFoundError || error instanceof ContainerStateError) throw error;
    return { kind: 'failedExec', error };
  }
}

/** Relays an accepted session until it is over. */
function relaySession(stream: BusStream, started: Started, logger: Logger): Promise<void> {
  switch (started.kind) {
    case 'session':
      return relayExec(stream, started.session, { stdout: started.header.stdout, stderr: started.header.stderr, op: started.header.op, logger });
    case 'socket':
      return relayPortForward(stream, started.socket, logger);
    case 'failedExec':
      endWithStatus(stream, { error: errorText(started.error) });
      return Promise.resolve();
    case 'failedPort':
      endWithError(stream, started.error);
      return Promise.resolve();
  }
}

function refuse(reason: StreamRefusalReason, message: string): AcceptDecision {
  return { accept: false, reason, message };
}

function refusal(error: unknown): AcceptDecision {
  if (error instanceof StreamRequestError) return refuse(error.code, error.message);
  if (error instanceof RuntimeUnsupportedError) return refuse('unsupported', error.message);
  // The container or sandbox went away (or exited) between the lookup and the start.
  if (error instanceof ContainerNotFoundError || error instanceof SandboxNotFoundError || error instanceof ContainerStateError) return refuse('notRunning', error.message);
  return refuse('badRequest', `the runtime failed: ${errorText(error)}`);
}

/** An accepted session whose stream could not be made (the endpoint is closing). */
function discard(started: Started): void {
  if (started.kind === 'session') started.session.close?.();
  if (started.kind === 'socket') started.socket.destroy();
}
