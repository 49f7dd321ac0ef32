/**
 * The cloud-node-lifecycle controller (Kubernetes' cloud-provider `controllers/nodelifecycle`):
 * every `--node-monitor-period` it asks the cloud about each NotReady Node. An instance that is
 * shut down gets the `node.cloudprovider.kubernetes.io/shutdown:NoSchedule` taint (removed once
 * the Node is Ready again); an instance that no longer exists takes its Node with it (the pod
 * garbage collector then deletes the Node's pods and their controllers replace them elsewhere).
 *
 * Decision: one key for the whole pass, as the node lifecycle controller does; a failed or
 * timed-out call about one Node is logged and skipped (the next pass asks again), so one slow
 * instance never stalls the others. A pass makes at most `lifecycleCallsPerPassMax` calls and
 * resumes where it stopped.
 */
import { durationOptionMs } from '../../controllers/nodelifecycle/index.js';
import { isConflict, isNotFound, refs, type ControllerContext, type ControllerSpec } from '../../controllers/runtime/index.js';
import { cloudLimits } from '../limits.js';
import { callProvider } from '../provider-call.js';
import { CloudProviderError, InstanceNotFoundError, type Instances } from '../provider.js';
import { lifecycleFirstStep, lifecycleVerdict, shutdownTaint } from './node-decisions.js';
import type { NodeObject } from './object-types.js';
import type { CloudControllerDependencies } from './service-controller.js';
import { termMemory } from './term-state.js';

const passKey = 'cloud-node-lifecycle-pass';

export function lifecyclePeriodMs(options: ControllerContext['options']): number {
  return Math.max(cloudLimits.lifecycleMonitorPeriodMsMin, durationOptionMs(options, 'nodeMonitorPeriod', cloudLimits.lifecycleMonitorPeriodMsDefault));
}

export function createCloudNodeLifecycleController(deps: CloudControllerDependencies): ControllerSpec {
  const memory = termMemory(() => ({ resumeAfter: '' }));
  return {
    name: 'cloud-node-lifecycle',
    watch(ctx, queue) {
      memory.reset(ctx);
      lifecyclePeriodMs(ctx.options); // a bad flag stops the controller here, naming it
      if (deps.cloud.instances() === null) return;
      ctx.informers.informer<NodeObject>(refs.nodes);
      queue.add(passKey);
      return () => memory.reset(ctx);
    },
    async reconcile(_key, ctx) {
      const instances = deps.cloud.instances();
      if (instances === null) return;
      const term = memory.of(ctx);
      term.resumeAfter = await monitorPass(ctx, { deps, instances, resumeAfter: term.resumeAfter });
      return { requeueAfterMs: lifecyclePeriodMs(ctx.options) };
    },
  };
}

interface PassArgs {
  readonly deps: CloudControllerDependencies;
  readonly instances: Instances;
  /** The Node name the last pass stopped after ('' : from the start). */
  readonly resumeAfter: string;
}

/** One pass; returns the name to resume after when the call budget ran out, else ''. */
async function monitorPass(ctx: ControllerContext, args: PassArgs): Promise<string> {
  const nodes = ctx.informers.informer<NodeObject>(refs.nodes).list().sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const start = nodes.findIndex((n) => (n.metadata.name ?? '') > args.resumeAfter);
  const ordered = start <= 0 ? nodes : [...nodes.slice(start), ...nodes.slice(0, start)];
  let calls = 0;
  for (const node of ordered) {
    const step = lifecycleFirstStep(node);
    if (step === 'none') continue;
    if (step === 'removeShutdownTaint') {
      await writeTaints(ctx, node, (node.spec?.taints ?? []).filter((t) => !(t.key === shutdownTaint.key && t.effect === shutdownTaint.effect)));
      continue;
    }
    if (calls + 2 > cloudLimits.lifecycleCallsPerPassMax) return node.metadata.name ?? '';
    calls += await checkNode(ctx, { ...args, node });
  }
  return '';
}

/** Asks about one NotReady Node and acts; returns the calls made. */
async function checkNode(ctx: ControllerContext, args: PassArgs & { node: NodeObject }): Promise<number> {
  const { node } = args;
  const name = node.metadata.name ?? '';
  const call = (operation: string) => ({ provider: args.deps.cloud.name, operation, timeoutMs: cloudLimits.instanceCallTimeoutMs, clock: ctx.clock });
  let calls = 1;
  try {
    const shutdown = await callProvider(call('instanceShutdown'), (o) => args.instances.instanceShutdown(node, o)).catch((error: unknown) => {
      if (error instanceof InstanceNotFoundError) return false; // gone is not shut down: instanceExists decides
      throw error;
    });
    let verdict = lifecycleVerdict(node, { shutdown });
    if (verdict === 'askExists') {
      calls++;
      const exists = await callProvider(call('instanceExists'), (o) => args.instances.instanceExists(node, o));
      verdict = lifecycleVerdict(node, { shutdown, exists });
    }
    if (verdict === 'taintShutdown') {
      await writeTaints(ctx, node, [...(node.spec?.taints ?? []), { ...shutdownTaint }]);
      ctx.logger.info('instance shut down: node tainted', { node: name });
    } else if (verdict === 'delete') {
      await deleteNode(ctx, node);
    }
  } catch (error) {
    if (!(error instanceof CloudProviderError)) throw error;
    ctx.logger.info('could not ask the cloud about a not-ready node; the next pass asks again', { node: name, operation: error.operation, error: error.message });
  }
  return calls;
}

async function deleteNode(ctx: ControllerContext, node: NodeObject): Promise<void> {
  const name = node.metadata.name ?? '';
  ctx.events.record({ ...node, apiVersion: node.apiVersion ?? 'v1', kind: node.kind ?? 'Node' }, 'Normal', 'DeletingNode', `Deleting node ${name} because it does not exist in the cloud provider`);
  try {
    // The uid precondition: a Node registered again under the same name meanwhile is not this one.
    await ctx.api.delete(refs.nodes, undefined, name, { ...(node.metadata.uid !== undefined ? { preconditions: { uid: node.metadata.uid } } : {}) });
    ctx.logger.info('instance gone: node deleted', { node: name });
  } catch (error) {
    if (isNotFound(error) || isConflict(error)) return;
    throw error;
  }
}

async function writeTaints(ctx: ControllerContext, node: NodeObject, taints: NonNullable<NodeObject['spec']>['taints']): Promise<void> {
  try {
    await ctx.api.update(refs.nodes, undefined, node.metadata.name ?? '', { ...node, spec: { ...node.spec, taints } });
  } catch (error) {
    if (isNotFound(error) || isConflict(error)) return; // gone, or changed: the next pass decides again
    throw error;
  }
}
