/**
 * Which pod network each node is on: the `kubus.io/pod-network` label of every Node, from an
 * informer through the API (nodes may list and watch Nodes). The informer keeps its last list when
 * the API is away (quorum loss, member restarts), so the proxy keeps routing as it last knew.
 * A node not (yet) known answers undefined: the proxy dials its endpoints directly.
 */
import type { AgentContext } from '../agent-context.js';
import { SharedInformer } from '../../actors/controllers/runtime/informer.js';
import type { KubeObject } from '../../actors/objects/meta.js';
import { coreResources } from '../env/api-resources.js';
import { podNetworkLabel, type PodNetworks } from './types.js';

export function startPodNetworks(ctx: Pick<AgentContext, 'api' | 'clock' | 'logger' | 'nodeName'>, self: string): PodNetworks & { stop(): void; synced(): boolean } {
  const nodes = new SharedInformer<KubeObject>({ api: ctx.api, resource: coreResources.nodes, clock: ctx.clock, logger: ctx.logger.child({ part: 'pod-networks' }) });
  nodes.start();
  return {
    self,
    of(node: string): string | undefined {
      // This node's own value is the flag's, even before its Node carries the label.
      if (node === ctx.nodeName) return self;
      const value = nodes.get(node)?.metadata?.labels?.[podNetworkLabel];
      return typeof value === 'string' && value !== '' ? value : undefined;
    },
    synced: () => nodes.hasSynced(),
    stop: () => nodes.stop(),
  };
}
