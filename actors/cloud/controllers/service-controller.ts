/**
 * The service controller (Kubernetes' cloud-provider `controllers/service`): every LoadBalancer
 * Service gets a balancer from the provider and its addresses in `status.loadBalancer.ingress`;
 * the balancer follows the set of eligible Nodes; a Service that stops being LoadBalancer, or is
 * deleted, has its balancer released before its finalizer goes.
 *
 * Order of writes, so that no failure leaves a Service half done:
 * - the finalizer `service.kubernetes.io/load-balancer-cleanup` is added before the first
 *   ensureLoadBalancer (a balancer never exists without a Service whose deletion waits for it);
 * - the status is written only with what a successful ensureLoadBalancer returned, whole, in one
 *   write (never from a failed or timed-out call);
 * - the finalizer is removed only after ensureLoadBalancerDeleted succeeded.
 * A failed provider call is retried with the controller's own backoff (limits.ts, 500 ms to 30 s,
 * forever: a balancer must converge once the cloud answers) and a `SyncLoadBalancerFailed`
 * Warning Event; API errors go to the runtime's retries.
 *
 * When the term ends the provider is stopped (`stop()` releases what this process holds, such as
 * the local provider's listeners, and is not final: the next term's ensures re-acquire them), so
 * a new leader on the same host finds the balancers' addresses free.
 *
 * Decision: the Service is read from the API at each reconcile (not from the informer), so a
 * write never starts from a state older than the controller's own last write; the informer only
 * says which keys to look at.
 */
import { objectKey, splitKey } from '../../objects/meta.js';
import { isNotFound, LeadershipLostError, refs, type ControllerContext, type ControllerSpec, type WorkQueue } from '../../controllers/runtime/index.js';
import { backoffMs, cloudLimits } from '../limits.js';
import { callProvider } from '../provider-call.js';
import { CloudProviderError, type CloudProvider, type LoadBalancer } from '../provider.js';
import type { LoadBalancerIngress } from 'kubernetes-types/core/v1.js';
import type { NodeObject, ServiceObject } from './object-types.js';
import {
  eligibleNodes, hasCleanupFinalizer, nodeEligibilityKey, ingressSignature, loadBalancerCleanupFinalizer, nodeSetSignature, planService, serviceSignature,
  wantsLoadBalancer, type AppliedBalancer, type ServicePlan,
} from './service-decisions.js';
import { FailureCounts, termMemory } from './term-state.js';

export interface CloudControllerDependencies {
  readonly cloud: CloudProvider;
  /** The cluster name handed to the provider (balancer names, tags). */
  readonly clusterName: string;
}

/** An Event about a Service (informer objects may lack apiVersion and kind, which an Event's involvedObject needs). */
function record(ctx: ControllerContext, service: ServiceObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
  ctx.events.record({ ...service, apiVersion: service.apiVersion ?? 'v1', kind: service.kind ?? 'Service' }, type, reason, message);
}

/** The key that recomputes the node set (debounces bursts of Node events into one pass). */
const nodeSetKey = '@nodes';

interface ServiceTerm {
  readonly applied: Map<string, AppliedBalancer>;
  readonly lastKnown: Map<string, ServiceObject>;
  readonly failures: FailureCounts;
  /** Services already told that the provider has no balancers (one Event per term). */
  readonly unsupportedReported: Set<string>;
  nodes: string | null;
  /** Set when the term ends: a reconcile still draining starts no provider call (it could re-take an address after stop()). */
  ended: boolean;
}

export function createServiceController(deps: CloudControllerDependencies): ControllerSpec {
  const memory = termMemory<ServiceTerm>(() => ({ applied: new Map(), lastKnown: new Map(), failures: new FailureCounts(), unsupportedReported: new Set(), nodes: null, ended: false }));
  return {
    name: 'service',
    workers: 2,
    resource: refs.services,
    watch(ctx, queue) {
      memory.reset(ctx);
      const term = memory.of(ctx);
      const services = ctx.informers.informer<ServiceObject>(refs.services);
      const nodes = ctx.informers.informer<NodeObject>(refs.nodes);
      const relevant = (service: ServiceObject): boolean => wantsLoadBalancer(service) || hasCleanupFinalizer(service) || term.applied.has(objectKey(service));
      const offServices = services.addHandlers({
        onAdd: (service) => { if (relevant(service)) queue.add(objectKey(service)); },
        onUpdate: (previous, service) => { if (relevant(service) || relevant(previous)) queue.add(objectKey(service)); },
        onDelete: (service) => {
          // Deleted through the finalizer: released already. Otherwise only a balancer this term made needs releasing.
          if (!term.applied.has(objectKey(service))) return;
          term.lastKnown.set(objectKey(service), service);
          queue.add(objectKey(service));
        },
      });
      const offNodes = nodes.addHandlers({ onAdd: () => queue.add(nodeSetKey), onUpdate: (previous, node) => { if (nodeEligibilityKey(previous) !== nodeEligibilityKey(node)) queue.add(nodeSetKey); }, onDelete: () => queue.add(nodeSetKey) });
      return () => {
        term.ended = true;
        offServices();
        offNodes();
        // No reset: a reconcile that starts after this must still see `ended` (a fresh term would
        // call the provider after stop()); the next term has a new informer factory, so its own memory.
        // The term ended (leadership lost, or the process stops): release what the provider holds in
        // this process (the local provider's listeners), so the next leader, maybe on this same
        // host, can take the balancers' addresses; a later term's ensure re-acquires them here.
        deps.cloud.stop().catch((error: unknown) => ctx.logger.warn('cloud provider did not release cleanly at the end of the term', { cloudProvider: deps.cloud.name, error }));
      };
    },
    async reconcile(key, ctx, queue) {
      const term = memory.of(ctx);
      if (key === nodeSetKey) return nodeSetChanged(ctx, term, queue);
      return reconcileService(ctx, { deps, term, key });
    },
  };
}

/** When the eligible node set changed, every balancer this controller serves is looked at again. */
function nodeSetChanged(ctx: ControllerContext, term: ServiceTerm, queue: WorkQueue): void {
  const signature = nodeSetSignature(eligibleNodes(ctx.informers.informer<NodeObject>(refs.nodes).list()));
  if (signature === term.nodes) return;
  term.nodes = signature;
  for (const service of ctx.informers.informer<ServiceObject>(refs.services).list()) {
    if (wantsLoadBalancer(service) || term.applied.has(objectKey(service))) queue.add(objectKey(service));
  }
}

interface ServiceArgs {
  readonly deps: CloudControllerDependencies;
  readonly term: ServiceTerm;
  readonly key: string;
}

async function reconcileService(ctx: ControllerContext, args: ServiceArgs): Promise<{ requeueAfterMs: number } | void> {
  const { term, key } = args;
  const { namespace, name } = splitKey(key);
  let service: ServiceObject | undefined;
  try {
    service = await ctx.api.get<ServiceObject>(refs.services, namespace, name);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const nodes = eligibleNodes(ctx.informers.informer<NodeObject>(refs.nodes).list());
  const plan = planService({ service, lastKnown: term.lastKnown.get(key), applied: term.applied.get(key), nodes: nodeSetSignature(nodes) });
  const subject = service ?? term.lastKnown.get(key);
  if (plan.kind === 'none' || subject === undefined) {
    if (service === undefined) {
      // Gone: nothing of it is remembered any longer (the per-key memories stay bounded by live Services).
      term.lastKnown.delete(key);
      term.failures.succeed(key);
      term.unsupportedReported.delete(key);
    }
    return;
  }
  try {
    await carryOut(ctx, { ...args, plan, service, subject, nodes });
    term.failures.succeed(key);
  } catch (error) {
    if (!(error instanceof CloudProviderError)) throw error;
    const failures = term.failures.fail(key);
    record(ctx, subject, 'Warning', 'SyncLoadBalancerFailed', `Error syncing load balancer: ${error.message}`);
    ctx.logger.info('load balancer sync failed; retrying', { service: key, operation: error.operation, failures, retryable: error.retryable });
    if (!error.retryable) return; // the provider says trying again cannot help: the next change of the Service will
    return { requeueAfterMs: backoffMs(failures, cloudLimits.serviceRetryBaseMs, cloudLimits.serviceRetryMaxMs) };
  }
}

interface CarryOut extends ServiceArgs {
  readonly plan: Exclude<ServicePlan, { kind: 'none' }>;
  readonly service: ServiceObject | undefined;
  readonly subject: ServiceObject;
  readonly nodes: NodeObject[];
}

async function carryOut(ctx: ControllerContext, args: CarryOut): Promise<void> {
  const balancer = args.deps.cloud.loadBalancer();
  const { plan } = args;
  if (plan.kind === 'delete') return release(ctx, { ...args, plan, balancer });
  if (args.service === undefined) return;
  if (balancer === null) {
    if (args.term.unsupportedReported.has(args.key)) return;
    args.term.unsupportedReported.add(args.key);
    record(ctx, args.service, 'Warning', 'SyncLoadBalancerFailed', `cloud provider ${args.deps.cloud.name} does not offer load balancers: the Service stays pending`);
    return;
  }
  if (plan.kind === 'updateHosts') return updateHosts(ctx, { ...args, service: args.service, balancer });
  return ensure(ctx, { ...args, service: args.service, balancer, addFinalizer: plan.addFinalizer });
}

function lbCall(ctx: ControllerContext, args: { readonly deps: CloudControllerDependencies; readonly term: ServiceTerm }, operation: string) {
  if (args.term.ended) throw new LeadershipLostError('cloud-controller-manager');
  return { provider: args.deps.cloud.name, operation, timeoutMs: cloudLimits.loadBalancerCallTimeoutMs, clock: ctx.clock };
}

async function ensure(ctx: ControllerContext, args: CarryOut & { service: ServiceObject; balancer: LoadBalancer; addFinalizer: boolean }): Promise<void> {
  const { deps, key } = args;
  let service = args.service;
  if (args.addFinalizer) {
    const finalizers = [...(service.metadata.finalizers ?? []), loadBalancerCleanupFinalizer];
    service = await ctx.api.update<ServiceObject>(refs.services, service.metadata.namespace, service.metadata.name ?? '', { ...service, metadata: { ...service.metadata, finalizers } });
  }
  record(ctx, service, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
  if (args.nodes.length === 0) record(ctx, service, 'Warning', 'UnAvailableLoadBalancer', 'There are no available nodes for LoadBalancer');
  const target = service;
  const ingress = await callProvider(lbCall(ctx, args, 'ensureLoadBalancer'), (o) => args.balancer.ensureLoadBalancer(deps.clusterName, target, args.nodes, o));
  checkIngress(deps.cloud.name, ingress);
  if (ingressSignature(ingress) !== ingressSignature(service.status?.loadBalancer?.ingress)) {
    const status = { ...service.status, loadBalancer: { ingress: ingress.map((i) => ({ ...i })) } };
    service = await ctx.api.update<ServiceObject>(refs.services, service.metadata.namespace, service.metadata.name ?? '', { ...service, status }, { subresource: 'status' });
  }
  args.term.applied.set(key, { service: serviceSignature(service), nodes: nodeSetSignature(args.nodes), ingress: ingressSignature(ingress) });
  args.term.unsupportedReported.delete(key);
  record(ctx, service, 'Normal', 'EnsuredLoadBalancer', 'Ensured load balancer');
}

/** A status is written whole or not at all: an answer with no usable address is a failed call. */
function checkIngress(provider: string, ingress: readonly LoadBalancerIngress[]): void {
  if (!Array.isArray(ingress) || ingress.length === 0) throw new CloudProviderError(provider, 'ensureLoadBalancer', 'returned no ingress address');
  for (const entry of ingress) {
    if ((entry.ip ?? '') === '' && (entry.hostname ?? '') === '') throw new CloudProviderError(provider, 'ensureLoadBalancer', 'returned an ingress entry with neither ip nor hostname');
  }
}

async function updateHosts(ctx: ControllerContext, args: CarryOut & { service: ServiceObject; balancer: LoadBalancer }): Promise<void> {
  const { deps, service } = args;
  await callProvider(lbCall(ctx, args, 'updateLoadBalancer'), (o) => args.balancer.updateLoadBalancer(deps.clusterName, service, args.nodes, o));
  const applied = args.term.applied.get(args.key);
  if (applied !== undefined) args.term.applied.set(args.key, { ...applied, nodes: nodeSetSignature(args.nodes) });
  record(ctx, service, 'Normal', 'UpdatedLoadBalancer', `Updated load balancer with new hosts (${args.nodes.length})`);
}

async function release(ctx: ControllerContext, args: CarryOut & { plan: { kind: 'delete'; clearStatus: boolean; removeFinalizer: boolean }; balancer: LoadBalancer | null }): Promise<void> {
  const { deps, subject, plan } = args;
  if (args.balancer !== null) {
    const balancer = args.balancer;
    record(ctx, subject, 'Normal', 'DeletingLoadBalancer', 'Deleting load balancer');
    await callProvider(lbCall(ctx, args, 'ensureLoadBalancerDeleted'), (o) => balancer.ensureLoadBalancerDeleted(deps.clusterName, subject, o));
  }
  let service = args.service;
  try {
    if (service !== undefined && plan.clearStatus) {
      const status = { ...service.status, loadBalancer: {} };
      service = await ctx.api.update<ServiceObject>(refs.services, service.metadata.namespace, service.metadata.name ?? '', { ...service, status }, { subresource: 'status' });
    }
    if (service !== undefined && plan.removeFinalizer) {
      const finalizers = (service.metadata.finalizers ?? []).filter((f) => f !== loadBalancerCleanupFinalizer);
      await ctx.api.update(refs.services, service.metadata.namespace, service.metadata.name ?? '', { ...service, metadata: { ...service.metadata, finalizers } });
    }
  } catch (error) {
    if (!isNotFound(error)) throw error; // gone meanwhile: nothing of it is left to clean
  }
  args.term.applied.delete(args.key);
  args.term.lastKnown.delete(args.key);
  if (args.balancer !== null) record(ctx, subject, 'Normal', 'DeletedLoadBalancer', 'Deleted load balancer');
}
