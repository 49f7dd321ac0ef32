/**
 * The contract between the node's view of Services and its users (issue 12): the service proxy
 * (nodeagent/proxy/) and the cluster DNS server (nodeagent/dns/) read the same catalog, kept by one
 * pair of informers per node (Services and EndpointSlices, through the API over NATS as
 * `system:node:<name>`).
 *
 * Decision: the catalog keeps its last known state while the API does not answer (quorum loss, a
 * member restart): applications keep being served from it; a relist replaces it wholesale once
 * the API answers again. `synced()` says whether it ever loaded.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

export type ServiceProtocol = 'TCP' | 'UDP' | 'SCTP';

/** One endpoint of one Service port, resolved from its EndpointSlices (named target ports already matched). */
export interface ResolvedEndpoint {
  readonly address: string;
  /** The port on the endpoint for this service port. */
  readonly port: number;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  /** The node running the endpoint's pod, when known: the proxy tunnels to it when its pod network is not routable from here. */
  readonly nodeName?: string;
  readonly hostname?: string;
  readonly zone?: string;
  readonly targetRef?: { readonly kind?: string; readonly namespace?: string; readonly name?: string; readonly uid?: string };
}

export interface ServiceKey {
  readonly namespace: string;
  readonly name: string;
}

export interface CatalogEntry {
  readonly service: Service;
  readonly slices: readonly EndpointSlice[];
}

export interface ServiceCatalog {
  /** True once Services and EndpointSlices were both listed once (then stays true: the last state is kept). */
  synced(): boolean;
  /** Resolves true when synced, false after `timeoutMs`. */
  waitForSync(timeoutMs: number): Promise<boolean>;
  get(key: ServiceKey): CatalogEntry | undefined;
  entries(): Iterable<CatalogEntry>;
  /** The Service holding this cluster IP (any of spec.clusterIPs), if any. */
  byClusterIp(ip: string): CatalogEntry | undefined;
  /**
   * The endpoints of one service port (by its name, '' for an unnamed port), every slice of the
   * Service merged, de-duplicated by address; the caller filters ready / serving / terminating.
   */
  endpointsFor(key: ServiceKey, portName: string, protocol: ServiceProtocol): readonly ResolvedEndpoint[];
  /** Called after each change with the Services whose entry changed (added, updated, removed); returns an unsubscribe. */
  subscribe(listener: (changed: readonly ServiceKey[]) => void): () => void;
  stop(): void;
}
