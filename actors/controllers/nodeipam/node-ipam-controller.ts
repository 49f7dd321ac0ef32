/**
 * Node IPAM (Kubernetes' range allocator): every Node gets `spec.podCIDR` and `spec.podCIDRs`, a
 * range of `--node-cidr-mask-size-ipv4` (24; `--node-cidr-mask-size` for single stack) and/or
 * `--node-cidr-mask-size-ipv6` (64) bits out of `--cluster-cidr` (10.244.0.0/16), released when
 * the Node is deleted. A full cluster CIDR is a `CIDRNotAvailable` Event on the Node, which gets
 * a range once another Node's is released.
 *
 * Decision: the allocation is rebuilt from every Node the informer holds at the first reconcile
 * of each leadership term (informers are synced before workers run), before anything is handed
 * out, so a new leader never gives out a range the previous one wrote. A write with a stale
 * resourceVersion (409) frees the range and re-reads the Node, which may already hold one.
 */
import type { Node } from 'kubernetes-types/core/v1.js';
import type { NodeObject } from '../nodelifecycle/object-types.js';
import { isDeleting, objectKey } from '../../objects/index.js';
import { numberOption, stringOption, type OptionValues } from '../nodelifecycle/option-values.js';
import { NodeCidrAllocator, nodePodCidrs, type NodeCidrSettings } from './node-cidr-allocator.js';
import { isConflict, isNotFound, refs, type ControllerContext, type ControllerSpec, type Informer } from '../runtime/index.js';

export const nodeIpamDefaults = {
  clusterCidr: '10.244.0.0/16',
  nodeMaskSizeIpv4: 24,
  nodeMaskSizeIpv6: 64,
} as const;

export function nodeIpamSettings(options: OptionValues): NodeCidrSettings {
  const clusterCidr = stringOption(options, 'clusterCidr', nodeIpamDefaults.clusterCidr);
  // `--node-cidr-mask-size` is the single-stack flag (the runtime always passes it, default 24);
  // the per-family flags win, and an IPv6 range only takes it when it fits (else /64).
  const single = numberOption(options, 'nodeCidrMaskSize', Number.NaN, { integer: true, min: 1, max: 128 });
  const cidrs = clusterCidr.split(',').map((c) => c.trim()).filter((c) => c !== '');
  const dualStack = cidrs.length > 1;
  const v6Prefix = cidrs.filter((c) => c.includes(':')).map((c) => Number(c.split('/')[1])).find((p) => Number.isInteger(p)) ?? 0;
  const v4Default = Number.isNaN(single) || single > 32 ? nodeIpamDefaults.nodeMaskSizeIpv4 : single;
  const v6Default = Number.isNaN(single) || dualStack || single < v6Prefix ? nodeIpamDefaults.nodeMaskSizeIpv6 : single;
  return {
    clusterCidr,
    nodeMaskSizeIpv4: numberOption(options, 'nodeCidrMaskSizeIpv4', v4Default, { integer: true, min: 1, max: 32 }),
    nodeMaskSizeIpv6: numberOption(options, 'nodeCidrMaskSizeIpv6', v6Default, { integer: true, min: 1, max: 128 }),
  };
}

interface IpamTerm {
  /** Built at the term's first reconcile, from every Node then known. */
  allocator: NodeCidrAllocator | undefined;
}

export function createNodeIpamController(): ControllerSpec {
  // One allocation per running host (keyed by its informer factory), dropped when the term ends.
  const terms = new WeakMap<object, IpamTerm>();
  const termOf = (ctx: ControllerContext): IpamTerm => {
    let term = terms.get(ctx.informers);
    if (term === undefined) {
      term = { allocator: undefined };
      terms.set(ctx.informers, term);
    }
    return term;
  };

  return {
    name: 'nodeipam',
    watch(ctx, queue) {
      nodeIpamSettings(ctx.options); // a bad flag stops the controller here, naming it
      terms.delete(ctx.informers);
      const term = termOf(ctx);
      const nodes = ctx.informers.informer<NodeObject>(refs.nodes);
      const unsubscribe = nodes.addHandlers({
        onAdd: (node) => queue.add(objectKey(node)),
        onUpdate: (previous, next) => {
          if (nodePodCidrs(next).length === 0 || nodePodCidrs(previous).join() !== nodePodCidrs(next).join()) queue.add(objectKey(next));
        },
        onDelete: (node) => {
          term.allocator?.release(objectKey(node));
          // Nodes waiting for a range (CIDRNotAvailable) may get the one just freed.
          for (const waiting of nodes.list()) if (nodePodCidrs(waiting).length === 0) queue.add(objectKey(waiting));
        },
      });
      return () => {
        unsubscribe();
        terms.delete(ctx.informers);
      };
    },
    async reconcile(key, ctx) {
      const nodes = ctx.informers.informer<NodeObject>(refs.nodes);
      const term = termOf(ctx);
      const allocator = term.allocator ?? rebuild(ctx, nodes);
      term.allocator = allocator;
      const node = nodes.get(key);
      if (node === undefined || isDeleting(node)) return;
      const held = nodePodCidrs(node);
      if (held.length > 0) {
        report(ctx, key, allocator.occupy(key, held));
        return;
      }
      const result = allocator.allocate(key);
      if (result.kind === 'exhausted') {
        ctx.logger.warn('no pod CIDR left for node', { node: key, clusterCidr: result.clusterCidr });
        ctx.events.record(node, 'Normal', 'CIDRNotAvailable', `Node ${key} status is now: CIDRNotAvailable`);
        return;
      }
      await writePodCidrs(ctx, { node, allocator, podCidrs: result.podCidrs });
    },
  };
}

/** The allocation as the cluster holds it: every Node's ranges, before any range is handed out. */
function rebuild(ctx: ControllerContext, nodes: Informer<NodeObject>): NodeCidrAllocator {
  const allocator = new NodeCidrAllocator(nodeIpamSettings(ctx.options));
  for (const node of nodes.list()) report(ctx, objectKey(node), allocator.occupy(objectKey(node), nodePodCidrs(node)));
  return allocator;
}

function report(ctx: ControllerContext, node: string, outcome: { readonly foreign: readonly string[]; readonly overlapping: readonly string[] }): void {
  if (outcome.foreign.length > 0) ctx.logger.warn('node pod CIDR outside the cluster CIDR, left as is', { node, podCidrs: outcome.foreign.join(',') });
  if (outcome.overlapping.length > 0) ctx.logger.warn('node pod CIDR overlaps another node\'s', { node, podCidrs: outcome.overlapping.join(',') });
}

async function writePodCidrs(ctx: ControllerContext, args: { node: NodeObject; allocator: NodeCidrAllocator; podCidrs: readonly string[] }): Promise<void> {
  const { node, allocator, podCidrs } = args;
  const name = objectKey(node);
  try {
    await ctx.api.update(refs.nodes, undefined, name, { ...node, spec: { ...node.spec, podCIDR: podCidrs[0], podCIDRs: [...podCidrs] } });
    ctx.logger.info('allocated pod CIDRs', { node: name, podCidrs: podCidrs.join(',') });
  } catch (error) {
    allocator.release(name);
    if (isNotFound(error)) return;
    if (!isConflict(error)) throw error;
    // Someone wrote the Node since our informer saw it: it may already hold a range.
    const fresh = await ctx.api.get<Node>(refs.nodes, undefined, name).catch((e: unknown) => (isNotFound(e) ? undefined : Promise.reject(e)));
    if (fresh === undefined) return;
    const held = nodePodCidrs(fresh);
    if (held.length > 0) {
      report(ctx, name, allocator.occupy(name, held));
      return;
    }
    throw error; // retried with backoff, on a fresher informer copy
  }
}

export const nodeIpamController: ControllerSpec = createNodeIpamController();
