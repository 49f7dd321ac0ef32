/**
 * The node's cluster DNS server (issue 12 §3) and what pods are told about it.
 *
 *   startClusterDns     UDP + TCP on `--cluster-dns`: cluster names from the ServiceCatalog
 *                       (answer.ts), other names forwarded to the host's resolvers (forwarder.ts)
 *   podDnsConfig        a pod's dnsPolicy / dnsConfig → the sandbox's resolver settings (pod-dns.ts)
 *
 * Decision: a server on every node, not one per cluster behind a Service: a pod's queries never
 * leave its host, and the node answers from its own catalog while the control plane has no quorum.
 *
 * Decision: no XState machine here: the server has one state (listening) between start and stop;
 * every decision (what a name means, the answer, the reply's size) is a pure function beside it.
 * Port 0 binds a free port (tests of the server alone): pods are told the configured address, so
 * an agent needs a real port.
 */
import type { AgentContext, NodeServicesConfig } from '../agent-context.js';
import type { ServiceCatalog } from '../services/catalog.js';
import { createForwarder } from './forwarder.js';
import { checkDnsLimits, dnsLimits } from './limits.js';
import { hostResolvConfPath, readResolvConf, upstreamsFrom, type Upstream } from './resolv-conf.js';
import { listenDns, type DnsServer } from './server.js';

export { ClusterDnsBindError, DnsForwardError, type DnsBindProblem } from './errors.js';
export { dnsLimits } from './limits.js';
export { resolveQuestion, type Resolution } from './answer.js';
export { classifyName, type ClusterName } from './names.js';
export { parseResolvConf, readResolvConf, type ResolverConfig, type Upstream } from './resolv-conf.js';
export { podDnsConfig, clusterDnsSettings, dnsServerText, type PodDnsSettings, type SandboxDns } from './pod-dns.js';
export type { DnsServer } from './server.js';

export interface ClusterDnsDeps {
  readonly catalog: ServiceCatalog;
  readonly config: NodeServicesConfig;
  /** Where outside names go; default: the nameservers of `resolvConfPath` (tests pass a fake upstream on loopback). */
  readonly upstreams?: readonly Upstream[];
  /** Default /etc/resolv.conf. */
  readonly resolvConfPath?: string;
}

/**
 * Listens on `config.clusterDns` (null: `--no-cluster-dns`, nothing starts). Throws
 * `ClusterDnsBindError` when the address cannot be bound; the agent then runs without DNS.
 */
export async function startClusterDns(
  ctx: Pick<AgentContext, 'nodeName' | 'clock' | 'logger'>,
  deps: ClusterDnsDeps,
): Promise<DnsServer | null> {
  const listen = deps.config.clusterDns;
  if (listen === null) return null;
  checkDnsLimits();
  const logger = ctx.logger.child({ component: 'cluster-dns' });
  const upstreams = deps.upstreams !== undefined ? () => deps.upstreams ?? [] : hostUpstreams(ctx, deps.resolvConfPath ?? hostResolvConfPath, listen);
  const forwarder = createForwarder({ upstreams, clock: ctx.clock });
  const server = await listenDns(listen, { catalog: deps.catalog, clusterDomain: deps.config.clusterDomain, forwarder, logger });
  const forwardTo = upstreams().map((upstream) => `${upstream.address}:${upstream.port}`);
  logger.info('cluster DNS listening', { address: server.address, port: server.port, domain: deps.config.clusterDomain, upstreams: forwardTo });
  if (forwardTo.length === 0) logger.warn('cluster DNS has no upstream resolver: names outside the cluster domain get SERVFAIL');
  return server;
}

/** The host's nameservers, read again at most every `resolvConfRereadMs`. */
function hostUpstreams(ctx: Pick<AgentContext, 'clock'>, path: string, self: Upstream): () => readonly Upstream[] {
  let readAtMs = Number.NEGATIVE_INFINITY;
  let current: readonly Upstream[] = [];
  return () => {
    const now = ctx.clock.now();
    if (now - readAtMs >= dnsLimits.resolvConfRereadMs) {
      readAtMs = now;
      current = upstreamsFrom(readResolvConf(path), self);
    }
    return current;
  };
}
