/**
 * The cloud provider plugin contract (issue 12 §4), modelled on Kubernetes' cloud-provider
 * (k8s.io/cloud-provider: Interface, InstancesV2, LoadBalancer, Routes). The cloud controller
 * manager loads one provider by name (`--cloud-provider`, registry.ts) and its controllers call
 * only these methods. docs/cloud-providers.md is the written contract; test/cloud/conformance.ts
 * is the suite every provider must pass.
 *
 * Rules every provider keeps (the conformance suite checks them):
 * - Every method is idempotent: the controllers retry after any failure (with backoff) and call
 *   `ensure*` again on every resync, so a second call with the same input changes nothing.
 * - Failures are typed: throw `CloudProviderError` (retryable unless said otherwise);
 *   `InstanceNotFoundError` only where the contract names it. Never resolve with partial state.
 * - No method blocks longer than the `timeoutMs` in its call options; the controllers bound it too.
 * - A provider holds no cluster state of its own that the controllers cannot rebuild: after a
 *   restart (or a leader change) the controllers call `ensure*` for every Service again.
 */
import type { Node, Service, LoadBalancerIngress, NodeAddress } from 'kubernetes-types/core/v1.js';
import { KubusError, type ErrorFields } from '../../bus/errors.js';
import type { Clock } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';

export interface CallOptions {
  /** The provider gives up (CloudProviderError, retryable) after this. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** InstancesV2.InstanceMetadata: what the node controller writes onto the Node. */
export interface InstanceMetadata {
  /** `<provider>://<instance id>`: written to spec.providerID when empty. */
  readonly providerID: string;
  /** node.kubernetes.io/instance-type; '' when unknown. */
  readonly instanceType: string;
  /** Replaces status.addresses when non-empty. */
  readonly nodeAddresses: readonly NodeAddress[];
  /** topology.kubernetes.io/zone and /region; '' when the cloud has none. */
  readonly zone: string;
  readonly region: string;
  /** Extra labels the provider asks for (optional). */
  readonly additionalLabels?: Readonly<Record<string, string>>;
}

/** InstancesV2: the node and node-lifecycle controllers' questions about the instance behind a Node. */
export interface Instances {
  /** False when the instance is gone for good (the Node is then deleted). */
  instanceExists(node: Node, options: CallOptions): Promise<boolean>;
  /** True when the instance exists but is stopped (the Node gets the shutdown taint). */
  instanceShutdown(node: Node, options: CallOptions): Promise<boolean>;
  /** Throws InstanceNotFoundError when the instance does not exist. */
  instanceMetadata(node: Node, options: CallOptions): Promise<InstanceMetadata>;
}

export interface LoadBalancerState {
  readonly exists: boolean;
  readonly ingress: readonly LoadBalancerIngress[];
}

/**
 * The service controller's load balancers. `nodes` are the Nodes that should receive traffic
 * (Ready, schedulable, not excluded by the `node.kubernetes.io/exclude-from-external-load-balancers`
 * label); traffic goes to each node's InternalIP at the Service's nodePorts.
 */
export interface LoadBalancer {
  /** The provider's name for this Service's load balancer (stable across calls; Kubernetes: "a" + uid without dashes, cut to 32). */
  loadBalancerName(clusterName: string, service: Service): string;
  getLoadBalancer(clusterName: string, service: Service, options: CallOptions): Promise<LoadBalancerState>;
  /** Creates or updates the balancer; resolves with the addresses the Service's status.loadBalancer.ingress gets. */
  ensureLoadBalancer(clusterName: string, service: Service, nodes: readonly Node[], options: CallOptions): Promise<readonly LoadBalancerIngress[]>;
  /** The set of nodes changed (the Service did not). */
  updateLoadBalancer(clusterName: string, service: Service, nodes: readonly Node[], options: CallOptions): Promise<void>;
  /** Removes the balancer and frees its address; resolves (does nothing) when there is none. */
  ensureLoadBalancerDeleted(clusterName: string, service: Service, options: CallOptions): Promise<void>;
}

export interface Route {
  readonly name: string;
  readonly targetNode: string;
  readonly destinationCIDR: string;
}

/** Optional: routes pod CIDRs between nodes in the cloud's network (kubus's NATS tunnel makes it unnecessary). */
export interface Routes {
  listRoutes(clusterName: string, options: CallOptions): Promise<readonly Route[]>;
  createRoute(clusterName: string, route: Route, options: CallOptions): Promise<void>;
  deleteRoute(clusterName: string, route: Route, options: CallOptions): Promise<void>;
}

export interface CloudProvider {
  /** The registered name (`--cloud-provider`), also the providerID scheme. */
  readonly name: string;
  /** Null when the cloud has no instance API (then the node controllers do nothing). */
  instances(): Instances | null;
  /** Null when the cloud has no load balancers (LoadBalancer Services then stay pending, with an Event). */
  loadBalancer(): LoadBalancer | null;
  routes(): Routes | null;
  /**
   * Releases what the provider holds in this process (listeners, timers); balancers in the cloud
   * stay. Called when a leadership term ends and when the process stops; idempotent, and not
   * final: later calls work again (a new term's ensureLoadBalancer re-acquires what it needs).
   */
  stop(): Promise<void>;
}

export interface ProviderConfig {
  /** `--cloud-config`: the provider's own configuration file, or null. */
  readonly configFile: string | null;
  readonly clusterName: string;
  readonly clock: Clock;
  readonly logger: Logger;
}

export type ProviderFactory = (config: ProviderConfig) => Promise<CloudProvider>;

/** A provider call failed. `retryable`: the controllers try again with backoff (the default). */
export class CloudProviderError extends KubusError {
  override readonly name: string = 'CloudProviderError';
  readonly code: string = 'cloudProvider';
  constructor(readonly provider: string, readonly operation: string, message: string, readonly retryable = true) {
    super(`cloud provider ${provider}: ${operation}: ${message}`);
  }
  override fields(): ErrorFields {
    return { provider: this.provider, operation: this.operation, retryable: this.retryable };
  }
}

/** The instance behind a Node does not exist (instanceMetadata only). */
export class InstanceNotFoundError extends CloudProviderError {
  override readonly name = 'InstanceNotFoundError';
  override readonly code = 'instanceNotFound';
  constructor(provider: string, readonly node: string) {
    super(provider, 'instanceMetadata', `no instance for node ${node}`, false);
  }
}

/** `--cloud-provider` names a provider that is not registered. */
export class UnknownCloudProviderError extends KubusError {
  override readonly name = 'UnknownCloudProviderError';
  readonly code = 'unknownCloudProvider';
  constructor(readonly provider: string, readonly known: readonly string[]) {
    super(`unknown cloud provider "${provider}": registered providers are ${known.join(', ') || '(none)'}`);
  }
  override fields(): ErrorFields {
    return { provider: this.provider, known: this.known.join(',') };
  }
}
