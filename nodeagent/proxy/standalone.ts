/**
 * A proxy with no agent around it, for benchmarks (`npm run bench:proxy`) and tests: give it a
 * catalog (services/memory-catalog.ts `createMemoryCatalog()`), the addresses NodePorts listen on,
 * and optionally a tunnel dialer with the pod networks that decide when it is used.
 */
import { SystemClock, type Clock } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import type { ServiceCatalog } from '../services/index.js';
import type { PodNetworks, TunnelDialer } from '../tunnel/index.js';
import { proxyLimits, type ProxyTuning } from './limits.js';
import { createServiceProxy, type ServiceProxyHandle } from './service-proxy.js';

export interface StandaloneProxyOptions {
  readonly catalog: ServiceCatalog;
  readonly nodeName?: string;
  /** Default ['127.0.0.1']. */
  readonly nodePortAddresses?: readonly string[];
  /** Default: every node on one pod network (nothing tunnelled). */
  readonly podNetworks?: PodNetworks;
  /** Default: refuses (no tunnel). */
  readonly dialer?: TunnelDialer;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly tuning?: Partial<ProxyTuning>;
}

const quietLogger: Logger = {
  debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined,
  child: () => quietLogger,
};

export function startStandaloneProxy(options: StandaloneProxyOptions): ServiceProxyHandle {
  const nodePortAddresses = options.nodePortAddresses ?? ['127.0.0.1'];
  return createServiceProxy(
    { nodeName: options.nodeName ?? 'standalone', clock: options.clock ?? new SystemClock(), logger: options.logger ?? quietLogger },
    {
      catalog: options.catalog,
      nodeIp: nodePortAddresses[0] ?? '127.0.0.1',
      config: { podNetwork: 'local', proxy: true, nodePortAddresses, clusterDns: null, clusterDomain: 'cluster.local' },
      podNetworks: options.podNetworks ?? { self: 'local', of: () => 'local' },
      dialer: options.dialer ?? { dial: async (target) => { throw new Error(`no tunnel in a standalone proxy (endpoint ${target.address}:${target.port} on ${target.node})`); } },
    },
    { ...proxyLimits, ...options.tuning },
  );
}
