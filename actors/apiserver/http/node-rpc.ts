/**
 * How the API server reaches a node agent: one request on `kubus.<cluster>.node.<N>.rpc`, one
 * reply (nodeagent/rpc/protocol.ts). A port, so HTTP handlers are tested against a fake and the
 * member passes its own bus connection (members may publish on `node.*.rpc`).
 */
import type { Bus } from '../../../bus/transport.js';
import { call } from '../../../bus/rpc.js';
import { subjects } from '../../../bus/subjects.js';
import type { LogsReply, RpcRequest } from '../../../nodeagent/rpc/protocol.js';

export interface NodeRpc {
  /** The subject the agent of `node` answers on (for messages that name it). */
  subjectFor(node: string): string;
  /** Throws the bus's typed errors: NoRespondersError (no agent), BusTimeoutError, BusClosedError. */
  logs(node: string, request: RpcRequest, timeoutMs: number): Promise<LogsReply>;
}

export function busNodeRpc(options: { readonly bus: Bus; readonly cluster: string }): NodeRpc {
  const names = subjects(options.cluster);
  return {
    subjectFor: (node) => names.nodeRpc(node),
    logs: (node, request, timeoutMs) => call<LogsReply>(options.bus, names.nodeRpc(node), request, { timeoutMs }),
  };
}
