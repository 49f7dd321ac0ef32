/**
 * The cloud-node controller (Kubernetes' cloud-provider `controllers/node`): a Node that carries
 * `node.cloudprovider.kubernetes.io/uninitialized`, or has no providerID yet, is given what its
 * instance's metadata says (spec.providerID when empty; labels topology.kubernetes.io/zone and
 * /region, node.kubernetes.io/instance-type; status.addresses), and then the taint is removed.
 * Every Node's metadata is compared again every `nodeStatusUpdatePeriodMs` (5 min) so that
 * addresses and labels follow the cloud.
 *
 * Order of writes: the addresses (status) first, then one update with providerID, labels and the
 * taint removal, so the scheduler never sees an initialised Node without its zone.
 * A failed metadata call is retried with backoff (limits.ts); an instance that does not exist is
 * left to the cloud-node-lifecycle controller (which deletes the Node once it is NotReady).
 */
import { isNotFound, refs, type ControllerContext, type ControllerSpec } from '../../controllers/runtime/index.js';
import { backoffMs, cloudLimits } from '../limits.js';
import { callProvider } from '../provider-call.js';
import { CloudProviderError, InstanceNotFoundError, type InstanceMetadata, type Instances } from '../provider.js';
import { hasSpecChanges, isUninitialized, needsInitialization, nodeChanges, withSpecChanges } from './node-decisions.js';
import type { NodeObject } from './object-types.js';
import type { CloudControllerDependencies } from './service-controller.js';
import { FailureCounts, termMemory } from './term-state.js';

export function createCloudNodeController(deps: CloudControllerDependencies): ControllerSpec {
  const memory = termMemory(() => ({ failures: new FailureCounts() }));
  return {
    name: 'cloud-node',
    resource: refs.nodes,
    watch(ctx, queue) {
      memory.reset(ctx);
      if (deps.cloud.instances() === null) return; // a cloud without an instance API has nothing to say about Nodes
      const off = ctx.informers.informer<NodeObject>(refs.nodes).addHandlers({
        onAdd: (node) => queue.add(node.metadata.name ?? ''),
        // Heartbeats change Nodes often; only a Node still waiting for the cloud is worth a call.
        onUpdate: (_previous, node) => { if (needsInitialization(node)) queue.add(node.metadata.name ?? ''); },
      });
      return () => {
        off();
        memory.reset(ctx);
      };
    },
    async reconcile(key, ctx) {
      const instances = deps.cloud.instances();
      if (instances === null) return;
      const failures = memory.of(ctx).failures;
      let node: NodeObject;
      try {
        node = await ctx.api.get<NodeObject>(refs.nodes, undefined, key);
      } catch (error) {
        if (isNotFound(error)) return failures.succeed(key);
        throw error;
      }
      let metadata: InstanceMetadata;
      try {
        metadata = await instanceMetadata(ctx, { deps, instances, node });
      } catch (error) {
        if (!(error instanceof CloudProviderError)) throw error;
        const count = failures.fail(key);
        if (error instanceof InstanceNotFoundError) {
          ctx.logger.info('no instance for node; the cloud-node-lifecycle controller deletes it once it is not ready', { node: key });
          return { requeueAfterMs: cloudLimits.nodeRetryMaxMs };
        }
        ctx.logger.info('instance metadata failed; retrying', { node: key, failures: count, error: error.message });
        return { requeueAfterMs: backoffMs(count, cloudLimits.nodeRetryBaseMs, cloudLimits.nodeRetryMaxMs) };
      }
      failures.succeed(key);
      await applyMetadata(ctx, node, metadata);
      return { requeueAfterMs: cloudLimits.nodeStatusUpdatePeriodMs };
    },
  };
}

async function instanceMetadata(ctx: ControllerContext, args: { deps: CloudControllerDependencies; instances: Instances; node: NodeObject }): Promise<InstanceMetadata> {
  const call = { provider: args.deps.cloud.name, operation: 'instanceMetadata', timeoutMs: cloudLimits.instanceCallTimeoutMs, clock: ctx.clock };
  const metadata = await callProvider(call, (o) => args.instances.instanceMetadata(args.node, o));
  const wellFormed = typeof metadata === 'object' && metadata !== null && typeof metadata.providerID === 'string' && Array.isArray(metadata.nodeAddresses) &&
    typeof metadata.zone === 'string' && typeof metadata.region === 'string' && typeof metadata.instanceType === 'string';
  if (!wellFormed) throw new CloudProviderError(args.deps.cloud.name, 'instanceMetadata', 'answered with malformed metadata');
  return metadata;
}

/** Writes what the metadata changes: status addresses, then providerID, labels and the taint in one update. */
async function applyMetadata(ctx: ControllerContext, listed: NodeObject, metadata: InstanceMetadata): Promise<void> {
  const name = listed.metadata.name ?? '';
  const changes = nodeChanges(listed, metadata);
  let node = listed;
  try {
    if (changes.addresses !== undefined) {
      node = await ctx.api.update<NodeObject>(refs.nodes, undefined, name, { ...node, status: { ...node.status, addresses: [...changes.addresses] } }, { subresource: 'status' });
    }
    if (hasSpecChanges(changes)) {
      node = await ctx.api.update<NodeObject>(refs.nodes, undefined, name, withSpecChanges(node, changes));
    }
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  if (changes.removeUninitializedTaint && !isUninitialized(node)) {
    ctx.logger.info('node initialized from the cloud', { node: name, providerID: node.spec?.providerID, zone: metadata.zone, region: metadata.region, instanceType: metadata.instanceType });
  }
}
