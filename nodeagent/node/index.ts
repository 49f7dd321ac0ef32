/**
 * The Node part of the agent (issue 11 §3): registers the Node, renews its Lease, keeps its
 * conditions and status, and knows its pod CIDR, also offline (node.json). `startNode` is what
 * the composition root (nodeagent/agent.ts) calls.
 */
import { createActor } from 'xstate';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { AgentContext, NodeConfig, NodeHandle } from '../agent-context.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { readNodeCheckpoint } from './node-checkpoint.js';
import { nodeLeaseRenewer } from './node-lease.js';
import { nodeMachine } from './node-machine.js';
import { podCidrOf, type NodeDeps } from './node-writes.js';
import type { HostReadings } from './host-readings.js';

export { nodeCheckpointPath, readNodeCheckpoint, type NodeCheckpoint } from './node-checkpoint.js';
export { resourceLimitsAnnotation, defaultKubeletVersion } from './node-object.js';

export interface NodeStartDeps {
  readonly runtime: ContainerRuntime;
  /** Pods this node runs now (for logs and, later, the pods count in status). */
  readonly runningPods: () => number;
  /** Tests replace the host's readings. */
  readonly readHost?: (dir: string, nowMs: number) => HostReadings;
}

export function startNode(ctx: AgentContext, config: NodeConfig, deps: NodeStartDeps): NodeHandle {
  const restored = readNodeCheckpoint(ctx.dir, ctx.nodeName);
  let podCidr: string | null = restored?.podCidr ?? null;
  let resolveRegistered!: () => void;
  const registered = new Promise<void>((resolve) => (resolveRegistered = resolve));
  // Restored from the checkpoint: the Node existed, pods may start offline at once (§6).
  if (restored !== null) resolveRegistered();
  const nodeDeps: NodeDeps = { ctx, config, runtime: deps.runtime, ...(deps.readHost !== undefined ? { readHost: deps.readHost } : {}) };
  const onNode = (node: Node): void => {
    const cidr = podCidrOf(node);
    if (cidr !== null && cidr !== podCidr) {
      ctx.logger.info('pod CIDR assigned', { podCidr: cidr });
      podCidr = cidr;
    }
    resolveRegistered();
  };
  const actor = createActor(nodeMachine, {
    input: { deps: nodeDeps, lease: nodeLeaseRenewer(ctx.api, ctx.nodeName, config.leaseDurationSeconds, ctx.wallClock), onNode },
    clock: ctx.clock,
  });
  actor.start();
  return {
    podCidr: () => podCidr,
    registered: () => registered,
    async stop() {
      actor.send({ type: 'node.stop' });
      actor.stop();
    },
  };
}
