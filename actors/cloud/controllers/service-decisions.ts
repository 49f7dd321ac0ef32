/**
 * The service controller's decisions, as pure functions of (Service, what this term last applied,
 * the eligible Nodes): which Services want a balancer, which Nodes receive its traffic, and what
 * one reconcile does. Modelled on Kubernetes' cloud-provider service controller
 * (`wantsLoadBalancer`, `needsCleanup`, `needsUpdate`, the node predicates).
 */
import type { LoadBalancerIngress, Node, Service } from 'kubernetes-types/core/v1.js';

/** Held on a Service while it may own a balancer: its deletion waits for the balancer's release. */
export const loadBalancerCleanupFinalizer = 'service.kubernetes.io/load-balancer-cleanup';
/** Nodes with this label never receive balancer traffic (Kubernetes' well-known label). */
export const excludeFromLoadBalancersLabel = 'node.kubernetes.io/exclude-from-external-load-balancers';
/** The cluster autoscaler's taint on a Node it is about to remove: no new balancer traffic. */
export const toBeDeletedTaint = 'ToBeDeletedByClusterAutoscaler';

export function hasCleanupFinalizer(service: Service): boolean {
  return (service.metadata?.finalizers ?? []).includes(loadBalancerCleanupFinalizer);
}

/**
 * A LoadBalancer Service this controller serves: a Service naming a `loadBalancerClass` belongs
 * to another implementation (Kubernetes leaves it alone too), and one being deleted wants its
 * balancer released.
 */
export function wantsLoadBalancer(service: Service): boolean {
  return service.spec?.type === 'LoadBalancer' && (service.spec.loadBalancerClass ?? '') === '' && (service.metadata?.deletionTimestamp ?? '') === '';
}

function readyStatus(node: Node): string | undefined {
  return (node.status?.conditions ?? []).find((c) => c.type === 'Ready')?.status;
}

/**
 * The Nodes a balancer sends traffic to: Ready, not excluded by label, not being deleted, not
 * marked for removal by an autoscaler; sorted by name so the same set is always the same list.
 * Decision: an unschedulable (cordoned) Node keeps its traffic, as in Kubernetes since 1.19:
 * draining a Node's pods must not cut the connections its NodePorts still forward.
 */
export function eligibleNodes<N extends Node>(nodes: readonly N[]): N[] {
  return nodes
    .filter((node) => readyStatus(node) === 'True')
    .filter((node) => node.metadata?.labels?.[excludeFromLoadBalancersLabel] === undefined)
    .filter((node) => (node.metadata?.deletionTimestamp ?? '') === '')
    .filter((node) => !(node.spec?.taints ?? []).some((t) => t.key === toBeDeletedTaint))
    .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/**
 * What about one Node can change the eligible node set (Kubernetes' shouldSyncUpdatedNode): an
 * update that leaves this equal (a heartbeat, a condition message) needs no balancer pass.
 */
export function nodeEligibilityKey(node: Node): string {
  return JSON.stringify([
    eligibleNodes([node]).length === 1,
    (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address),
  ]);
}

/** What a balancer depends on in the node set: names and internal addresses. */
export function nodeSetSignature(nodes: readonly Node[]): string {
  return JSON.stringify(nodes.map((n) => [n.metadata?.name ?? '', (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address)]));
}

/** What a balancer depends on in the Service (Kubernetes' `needsUpdate` fields). */
export function serviceSignature(service: Service): string {
  const spec = service.spec ?? {};
  return JSON.stringify([
    service.metadata?.uid ?? '',
    (spec.ports ?? []).map((p) => [p.name ?? '', p.protocol ?? 'TCP', p.port, p.nodePort ?? 0]),
    spec.loadBalancerIP ?? '', [...(spec.loadBalancerSourceRanges ?? [])].sort(), spec.externalTrafficPolicy ?? '',
    spec.healthCheckNodePort ?? 0, spec.sessionAffinity ?? '', [...(spec.externalIPs ?? [])].sort(),
    Object.entries(service.metadata?.annotations ?? {}).sort(([a], [b]) => a.localeCompare(b)),
  ]);
}

export function ingressSignature(ingress: readonly LoadBalancerIngress[] | undefined): string {
  return JSON.stringify((ingress ?? []).map((i) => [i.ip ?? '', i.hostname ?? '', i.ipMode ?? '']));
}

/** What this term last did for a Service (rebuilt from scratch by the next term: it ensures again). */
export interface AppliedBalancer {
  readonly service: string;
  readonly nodes: string;
  readonly ingress: string;
}

export type ServicePlan =
  | { readonly kind: 'none' }
  /** Add the finalizer first (when missing), then ensureLoadBalancer, then write the status. */
  | { readonly kind: 'ensure'; readonly addFinalizer: boolean }
  /** Only the node set changed: updateLoadBalancer. */
  | { readonly kind: 'updateHosts' }
  /** ensureLoadBalancerDeleted, then clear the status and drop the finalizer where the Service still has them. */
  | { readonly kind: 'delete'; readonly clearStatus: boolean; readonly removeFinalizer: boolean };

export interface PlanInput {
  /** The Service as the API has it now; undefined when it is gone. */
  readonly service: Service | undefined;
  /** The last state this term saw of a Service now gone (its balancer may need releasing). */
  readonly lastKnown: Service | undefined;
  readonly applied: AppliedBalancer | undefined;
  readonly nodes: string;
}

export function planService(input: PlanInput): ServicePlan {
  const { service, applied } = input;
  if (service === undefined) {
    // Gone while this term holds a balancer for it (its finalizer was removed by hand): release it,
    // as Kubernetes does from its cache. A Service deleted through the finalizer was released first.
    const owned = input.lastKnown !== undefined && applied !== undefined;
    return owned ? { kind: 'delete', clearStatus: false, removeFinalizer: false } : { kind: 'none' };
  }
  const hasIngress = (service.status?.loadBalancer?.ingress ?? []).length > 0;
  if (!wantsLoadBalancer(service)) {
    const finalizer = hasCleanupFinalizer(service);
    if (!finalizer && applied === undefined) return { kind: 'none' };
    const deleting = (service.metadata?.deletionTimestamp ?? '') !== '';
    return { kind: 'delete', clearStatus: hasIngress && !deleting, removeFinalizer: finalizer };
  }
  if (!hasCleanupFinalizer(service)) return { kind: 'ensure', addFinalizer: true };
  if (applied === undefined || applied.service !== serviceSignature(service) || applied.ingress !== ingressSignature(service.status?.loadBalancer?.ingress) || !hasIngress) {
    return { kind: 'ensure', addFinalizer: false };
  }
  if (applied.nodes !== input.nodes) return { kind: 'updateHosts' };
  return { kind: 'none' };
}
