/**
 * The API server as one member process hosts it: on the member's own bus connection, a store
 * client over all members, the object store, the member's serving certificate and token file,
 * and a readiness probe that says whether this member sees a quorum and has caught up; the same
 * API is also answered over NATS (`kubus.<cluster>.api`) for internal components.
 */
import { busNodeRpc } from './http/node-rpc.js';
import { busNodeStreams } from './http/streaming/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';
import { Prng, SystemClock, loadNatsCredentials, type Bus, type Logger } from '../../bus/index.js';
import type { MemberId, RaftDriver, StoreRequest } from '../../store/index.js';
import { MemberStoreClient } from './registry/member-store-client.js';
import { ObjectStore } from './registry/object-store.js';
import { WatchedCollection } from './registry/watched-collection.js';
import { findResource, type ResourceInfo } from './registry/resources.js';
import { startApiServer } from './api-server.js';
import { clusterAuthenticator, readIfExists } from './authn/index.js';
import { serveApiOverNats } from './nats-front.js';
import { AdmissionChain } from './admission/index.js';
import { withCsrSigning } from './admission/csr-signing.js';
import { liveNodeHolds } from './admission/csr-join.js';
import { nodeCredentialsLimits } from './http/node-credentials.js';
import { ClusterAuthorizer, ensureDefaultPolicy, startAuthzCaches, withRbacEscalationCheck } from './authz/index.js';
import { ensureSystemPriorityClasses } from './system-priority-classes.js';
import { defaultAdvertiseAddress, startKubernetesServiceReconciler } from './services/kubernetes-service.js';
import { defaultClusterIpRange } from './services/ranges.js';
import { AllocationView, ServiceAllocator, checkServiceAllocationLimits, parseServiceRanges, serviceAllocationLimits, startAllocationRepair } from './services/index.js';
import { startMetricsView } from './metrics/index.js';
import type { MemberTelemetry } from '../../bus/telemetry/index.js';

export interface MemberApiConfig {
  readonly host: string;
  readonly port: number;
  /** Holds `pki/server.crt`, `pki/server.key`, `pki/ca.crt`, `pki/sa.key|pub` and `tokens.csv` (see credentials.ts). */
  readonly credentialsDir: string;
  /** Requests served at once, shared among the priority levels (http/fairness.ts); default 400. */
  readonly inFlightMax?: number;
  /** Lifetime of a node agent's NATS user and API token (`--node-credentials-ttl`); default http/node-credentials.ts. */
  readonly nodeCredentialsTtlMs?: number;
  /** `--service-cluster-ip-range` (CIDR) and `--service-node-port-range` (`30000-32767`); defaults in apiserver/services/. */
  readonly serviceClusterIpRange?: string;
  readonly serviceNodePortRange?: string;
  /** `--advertise-address`: this member's API address in the `kubernetes` Service's endpoints (default: host, or the first non-loopback IPv4 for 0.0.0.0). */
  readonly advertiseAddress?: string;
}

export interface RunningMemberApi {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * What every member creates at start, idempotently: the default namespaces, the default RBAC
 * policy and the system PriorityClasses. Like kube-apiserver's `poststarthook/rbac/bootstrap-roles`, a member is not ready until
 * this has succeeded once, so `kubus up` returns a cluster whose roles exist. Retried once a
 * second (the first election may still be running) until it succeeds or the member stops.
 */
async function bootstrapDefaults(objects: ObjectStore, logger: Logger, stopped: () => boolean): Promise<boolean> {
  const retryMs = 1_000;
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      await objects.ensureDefaults();
      await ensureDefaultPolicy(objects);
      await ensureSystemPriorityClasses(objects);
      return true;
    } catch (error) {
      // Every 30th failure is logged: a member without quorum for long says so without flooding its log.
      if (attempt % 30 === 0) logger.warn('default namespaces and RBAC policy not created yet', { attempt, error: (error as Error).message });
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
  return false;
}

export async function startMemberApi(options: {
  readonly config: MemberApiConfig;
  readonly bus: Bus;
  readonly cluster: string;
  /** This member's id: watch streams over NATS are renewed on its own subject. */
  readonly self: MemberId;
  readonly members: readonly MemberId[];
  /** The member's NATS URLs, handed to node agents with their credentials. */
  readonly natsServers?: readonly string[];
  readonly driver: () => RaftDriver | null;
  /** The member's own store request handler (its bus service's, `MemberService.handleLocal`): reads and writes to this member skip NATS; absent: writes go over NATS. */
  readonly localStore?: (request: StoreRequest) => Promise<unknown>;
  readonly logger: Logger;
  /** The member's Prometheus registry and API series (`/metrics`). */
  readonly telemetry?: MemberTelemetry;
}): Promise<RunningMemberApi> {
  const { config } = options;
  // Before anything listens: a bad range flag fails the start, naming the flag.
  checkServiceAllocationLimits(serviceAllocationLimits);
  const serviceRanges = parseServiceRanges(config);
  const clock = new SystemClock();
  // Every member keeps the latest metrics report of every node (metrics.k8s.io, kubectl top, the HPA).
  const metricsView = startMetricsView({ bus: options.bus, cluster: options.cluster, clock, logger: options.logger });
  // The member's own view lets the client refuse writes at once while this member is cut off.
  const localView = () => {
    const status = options.driver()?.status();
    return status === undefined ? null : { leader: status.leader, reachable: status.reachable, total: status.conf.voters.length };
  };
  // Requests to this member are answered in process (registry/member-store-client.ts).
  const client = new MemberStoreClient({ bus: options.bus, cluster: options.cluster, members: options.members, clock, random: new Prng(randomInt(2 ** 31)), localView }, {
    id: options.self, driver: options.driver, ...(options.localStore !== undefined ? { handle: options.localStore } : {}),
  });
  // Service addresses are allocated in the Service's own store txn (apiserver/services/).
  const allocationView = new AllocationView({ client, clock, random: new Prng(randomInt(2 ** 31)), logger: options.logger }).start();
  // Namespaces as this member's watch sees them: creates into an Active one skip two reads (registry/object-store.ts says why that is safe).
  let namespaceView: WatchedCollection | null = null;
  const namespaces = (name: string) => (namespaceView?.isLive === true ? namespaceView.get(null, name) : undefined);
  const objects = new ObjectStore(client, { clock, writeHooks: { services: new ServiceAllocator(serviceRanges, allocationView) }, namespaces });
  namespaceView = new WatchedCollection(findResource('', 'v1', 'namespaces') as ResourceInfo, { source: objects, clock, logger: options.logger });
  namespaceView.start();
  const allocationRepair = startAllocationRepair({ client, objects, clock, logger: options.logger });
  let bootstrapped = false;
  let defaultPolicyVisible = false;
  let closed = false;
  // Authorization answers from watched RBAC and node-graph caches (actors/apiserver/authz).
  const authz = startAuthzCaches({ source: objects, clock, logger: options.logger });
  // The admission plugins and webhooks (actors/apiserver/admission); webhook configurations are watched.
  const admission = new AdmissionChain({ objects, logger: options.logger, namespaces }).start();
  const serviceAccountKeyPem = readIfExists(join(config.credentialsDir, 'pki', 'sa.key'));
  // TLS bootstrap: node client CSRs are signed with the cluster CA (absent key: CSRs stay pending).
  const caKeyPem = readIfExists(join(config.credentialsDir, 'pki', 'ca.key'));
  const caCertPem = readFileSync(join(config.credentialsDir, 'pki', 'ca.crt'), 'utf8');
  const checked = withRbacEscalationCheck(admission, { policy: authz.policy });
  const server = await startApiServer({
    host: config.host,
    port: config.port,
    tls: {
      // The CA travels in the chain: a joining agent takes it from the handshake and checks it against its pinned hash.
      certPem: `${readFileSync(join(config.credentialsDir, 'pki', 'server.crt'), 'utf8').trim()}\n${caCertPem}`,
      keyPem: readFileSync(join(config.credentialsDir, 'pki', 'server.key'), 'utf8'),
      // Client certificates signed by the cluster CA authenticate (CN user, O groups).
      clientCaPem: readFileSync(join(config.credentialsDir, 'pki', 'ca.crt'), 'utf8'),
    },
    authenticator: clusterAuthenticator({ credentialsDir: config.credentialsDir, objects, clock, wallClock: () => new Date() }),
    ...(serviceAccountKeyPem !== null ? { serviceAccountKeyPem } : {}),
    nodeCredentials: {
      cluster: options.cluster, natsServers: options.natsServers ?? [], nats: loadNatsCredentials(config.credentialsDir),
      tokenKeyPem: serviceAccountKeyPem, ttlMs: config.nodeCredentialsTtlMs ?? nodeCredentialsLimits.ttlMsDefault,
    },
    nodeRpc: busNodeRpc({ bus: options.bus, cluster: options.cluster }),
    // exec, attach and port-forward: this member's stream endpoint (member.<self>.stream), closed with the server.
    nodeStreams: busNodeStreams({ bus: options.bus, cluster: options.cluster, self: options.self, clock, logger: options.logger }),
    metrics: metricsView.view,
    ...(options.telemetry !== undefined ? { telemetry: options.telemetry } : {}),
    objects,
    ...(config.inFlightMax !== undefined ? { limits: { inFlightMax: config.inFlightMax } } : {}),
    authorizer: new ClusterAuthorizer(authz.policy, authz.graph, (timeoutMs) => authz.graphSynced(timeoutMs), (timeoutMs) => authz.graphChanged(timeoutMs)),
    admission: caKeyPem === null ? checked : withCsrSigning(checked, { caCertPem, caKeyPem, clock: () => new Date(), liveNode: (name, nowMs) => liveNodeHolds(objects, name, nowMs) }),
    logger: options.logger,
    ready: async () => {
      const driver = options.driver();
      if (driver === null) return false;
      const status = driver.status();
      // Ready: defaults exist and this member's authorizer sees them (a latch, like Kubernetes'
      // one-time post-start hook: an admin deleting a default role later does not unready it), a
      // leader is known, this member hears a majority, and it applied what it knows committed.
      defaultPolicyVisible ||= bootstrapped && authz.holdDefaultPolicy();
      return defaultPolicyVisible && status.leader !== null && status.reachable * 2 > status.conf.voters.length && status.appliedIndex >= driver.staleness().knownCommitIndex;
    },
  });
  options.logger.info('api server listening', { url: server.url });
  const kubernetesService = startKubernetesServiceReconciler({
    objects, self: options.self, advertise: { address: config.advertiseAddress ?? defaultAdvertiseAddress(config.host), port: server.port },
    serviceClusterIpRange: config.serviceClusterIpRange ?? defaultClusterIpRange, clock, logger: options.logger,
  });
  const natsFront = serveApiOverNats({
    bus: options.bus, cluster: options.cluster, apiUrl: server.url, self: options.self, local: server.serveInProcess,
    caCertPem: readFileSync(join(config.credentialsDir, 'pki', 'ca.crt'), 'utf8'),
  });
  void bootstrapDefaults(objects, options.logger, () => closed).then((done) => { bootstrapped = done; });
  return {
    url: server.url,
    async close() {
      closed = true;
      // First, while the store client still works: this member's Lease and endpoint go at once.
      await kubernetesService.stop();
      allocationRepair.stop();
      allocationView.stop();
      natsFront.stop();
      metricsView.stop();
      authz.stop();
      admission.stop();
      namespaceView.stop();
      await server.close();
    },
  };
}
