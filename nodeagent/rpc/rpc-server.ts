/**
 * The agent's rpc server on `kubus.<cluster>.node.<N>.rpc`: control-plane members ask it for
 * container logs (later exec, attach, port-forward); each request gets exactly one reply
 * (protocol.ts).
 *
 * Decision: the NATS permissions are the authentication. Only members may publish on
 * `node.*.rpc` (bus/nats-auth.ts), after the API server authenticated and authorized the user's
 * request (`get pods/log`); so the server checks a request's shape, not its sender. An agent's own
 * user may answer each request once within 60 s, which bounds a long poll (protocol.ts waitMsMax).
 */
import { serve } from '../../bus/rpc.js';
import { subjects } from '../../bus/subjects.js';
import { KubusError } from '../../bus/errors.js';
import type { AgentContext } from '../agent-context.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { checkLogsRequest, handleLogs } from './logs-handler.js';
import type { LogsErrorCode, LogsReply } from './protocol.js';
import { LogsRequestError } from './errors.js';
import { checkRpcLimits, rpcServerLimits } from './limits.js';


export function startRpcServer(ctx: Pick<AgentContext, 'bus' | 'cluster' | 'nodeName' | 'dir' | 'clock' | 'logger'>, deps: { readonly runtime: ContainerRuntime }): { stop(): Promise<void> } {
  checkRpcLimits();
  const logger = ctx.logger.child({ component: 'rpc' });
  const handlerDeps = { dir: ctx.dir, nodeName: ctx.nodeName, runtime: deps.runtime, clock: ctx.clock };
  const server = serve(ctx.bus, subjects(ctx.cluster).nodeRpc(ctx.nodeName), async (request): Promise<LogsReply> => {
    try {
      return await handleLogs(checkLogsRequest(request), handlerDeps);
    } catch (error) {
      if (error instanceof LogsRequestError) return failed(error.code, error.message);
      // An I/O failure reading a log file: the member shows it rather than timing out.
      if (!(error instanceof KubusError)) logger.warn('logs request failed', { error: String(error) });
      return failed('badRequest', `reading logs failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }, {
    concurrencyMax: rpcServerLimits.concurrencyMax, pendingMax: rpcServerLimits.pendingMax,
    onInternalError: (error) => logger.error('rpc handler failed', { error: String(error) }),
  });
  return {
    stop: async () => server.stop(),
  };
}

function failed(code: LogsErrorCode, message: string): LogsReply {
  return { chunk: new Uint8Array(0), cursor: null, eof: true, caughtUp: true, error: { code, message } };
}
