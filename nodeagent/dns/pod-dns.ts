/**
 * What a pod's resolver is told, from its `dnsPolicy` and `dnsConfig` (the kubelet's
 * pkg/kubelet/network/dns, as a pure function):
 *
 *   ClusterFirst (default)    the node's cluster DNS, searches `<ns>.svc.<domain> svc.<domain> <domain>`
 *                             then the host's, `ndots:5`; a hostNetwork pod gets the host's instead
 *   ClusterFirstWithHostNet   the same, hostNetwork or not
 *   Default                   the host's resolv.conf (servers, searches, options)
 *   None                      only `dnsConfig`
 *
 * then `dnsConfig` is appended (nameservers, searches without duplicates; options by name, the
 * pod's winning). A node without cluster DNS (`--no-cluster-dns`) gives ClusterFirst pods the
 * host's settings, as the kubelet does without `--cluster-dns`.
 *
 * Decision: a server on a port other than 53 is written `ip:port` (`[ip]:port` for IPv6):
 * resolv.conf cannot say it, so the process runtime also hands it to containers in
 * `KUBUS_DNS_SERVER`; container runtimes need port 53.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeServicesConfig } from '../agent-context.js';
import type { PodSandboxConfig } from '../runtime/types.js';
import { isIPv6 } from './names.js';
import { readResolvConf, type ResolverConfig } from './resolv-conf.js';

export type SandboxDns = NonNullable<PodSandboxConfig['dns']>;

export interface PodDnsSettings {
  /** `--cluster-dns`; null with `--no-cluster-dns`. */
  readonly clusterDns: { readonly address: string; readonly port: number } | null;
  readonly clusterDomain: string;
  /** The host's resolver configuration: `dnsPolicy: Default`, and the searches ClusterFirst appends. */
  readonly host: ResolverConfig;
}

/** Kubernetes' bounds (validation.MaxDNSNameservers, MaxDNSSearchPaths, MaxDNSSearchListChars): past them the kubelet drops the rest. */
export const podDnsLimits = {
  nameserversMax: 3,
  searchesMax: 32,
  searchCharsMax: 2048,
} as const;

/** The settings of this node: its flags and the host's resolv.conf, read once (the agent reads it at start). */
export function clusterDnsSettings(services: NodeServicesConfig, host: ResolverConfig = readResolvConf()): PodDnsSettings {
  return { clusterDns: services.clusterDns, clusterDomain: services.clusterDomain, host };
}

export function dnsServerText(server: { readonly address: string; readonly port: number }): string {
  if (server.port === 53) return server.address;
  return isIPv6(server.address) ? `[${server.address}]:${server.port}` : `${server.address}:${server.port}`;
}

/** The sandbox's resolver settings; undefined when the pod gets nothing (None without dnsConfig keeps the runtime's default). */
export function podDnsConfig(pod: Pod, settings: PodDnsSettings): SandboxDns | undefined {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  const hostNetwork = pod.spec?.hostNetwork === true;
  const namespace = pod.metadata?.namespace ?? 'default';
  let base: SandboxDns;
  const cluster = policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !hostNetwork);
  if (policy === 'None') {
    base = { servers: [], searches: [], options: [] };
  } else if (cluster && settings.clusterDns !== null) {
    const domain = settings.clusterDomain.replace(/\.+$/, '');
    base = {
      servers: [dnsServerText(settings.clusterDns)],
      searches: [`${namespace}.svc.${domain}`, `svc.${domain}`, domain, ...settings.host.searches],
      options: ['ndots:5'],
    };
  } else {
    base = { servers: settings.host.nameservers, searches: settings.host.searches, options: settings.host.options };
  }
  const extra = pod.spec?.dnsConfig;
  const merged: SandboxDns = {
    servers: unique([...base.servers, ...(extra?.nameservers ?? [])]).slice(0, podDnsLimits.nameserversMax),
    searches: boundedSearches(unique([...base.searches, ...(extra?.searches ?? [])])),
    options: mergeOptions(base.options, (extra?.options ?? []).map((option) => option.value === undefined ? option.name ?? '' : `${option.name ?? ''}:${option.value}`)),
  };
  if (policy === 'None' && merged.servers.length === 0 && merged.searches.length === 0 && merged.options.length === 0) return undefined;
  return merged;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values.filter((value) => value !== ''))];
}

function boundedSearches(searches: readonly string[]): string[] {
  const kept: string[] = [];
  let chars = 0;
  for (const search of searches.slice(0, podDnsLimits.searchesMax)) {
    chars += search.length + (kept.length === 0 ? 0 : 1);
    if (chars > podDnsLimits.searchCharsMax) break;
    kept.push(search);
  }
  return kept;
}

/** Options by name (`ndots:5` is named `ndots`); a later one replaces an earlier one of the same name in place. */
function mergeOptions(base: readonly string[], extra: readonly string[]): string[] {
  const byName = new Map<string, string>();
  for (const option of [...base, ...extra]) {
    if (option === '') continue;
    byName.set(option.split(':')[0] ?? option, option);
  }
  return [...byName.values()];
}
