/**
 * What a query name means in the cluster domain: a pure function of the name and the domain
 * (Kubernetes' DNS specification, "DNS-Based Service Discovery" v1.1.0):
 *
 *   <domain>, svc.<domain>, pod.<domain>          the zone itself (SOA, NS; nothing else)
 *   <ns>.svc.<domain>, <ns>.pod.<domain>          a namespace (exists while it holds a Service)
 *   <svc>.<ns>.svc.<domain>                       a Service: A/AAAA (ClusterIP, or endpoints if headless), CNAME (ExternalName), SRV (every port)
 *   <host>.<svc>.<ns>.svc.<domain>                one endpoint of a headless Service (its hostname, or its address dashed)
 *   _<port>._<proto>.<svc>.<ns>.svc.<domain>      SRV of one named port
 *   <a-b-c-d>.<ns>.pod.<domain>                   a pod address (CoreDNS' `pods insecure`, the Kubernetes default: not checked against pods)
 *
 * Anything else inside the domain does not exist (NXDOMAIN); names outside it are forwarded.
 */
import ipaddr from 'ipaddr.js';
import type { ServiceProtocol } from '../services/catalog.js';
import { dnsLimits } from './limits.js';

export type ClusterName =
  | { readonly kind: 'outside' }
  | { readonly kind: 'zone' }
  | { readonly kind: 'namespace'; readonly tree: 'svc' | 'pod'; readonly namespace: string }
  | { readonly kind: 'service'; readonly namespace: string; readonly service: string }
  | { readonly kind: 'endpoint'; readonly namespace: string; readonly service: string; readonly endpoint: string }
  | { readonly kind: 'port'; readonly namespace: string; readonly service: string; readonly port: string; readonly protocol: ServiceProtocol }
  | { readonly kind: 'pod'; readonly namespace: string; readonly ip: string }
  | { readonly kind: 'invalid' };

/** A name as DNS compares it: case-insensitive, without the root's trailing dot. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.+$/, '');
}

export function classifyName(name: string, clusterDomain: string): ClusterName {
  const domain = canonicalName(clusterDomain);
  const query = canonicalName(name);
  if (query === domain) return { kind: 'zone' };
  if (!query.endsWith(`.${domain}`)) return { kind: 'outside' };
  if (query.length > dnsLimits.nameBytesMax) return { kind: 'invalid' };
  const labels = query.slice(0, -(domain.length + 1)).split('.');
  const tree = labels.pop();
  if (tree === 'svc') return classifyServiceName(labels);
  if (tree === 'pod') return classifyPodName(labels);
  return { kind: 'invalid' };
}

function classifyServiceName(labels: readonly string[]): ClusterName {
  const [first, second, third, fourth] = labels;
  switch (labels.length) {
    case 0: return { kind: 'zone' };
    case 1: return { kind: 'namespace', tree: 'svc', namespace: first ?? '' };
    case 2: return { kind: 'service', namespace: second ?? '', service: first ?? '' };
    case 3:
      if (first === undefined || first.startsWith('_')) return { kind: 'invalid' };
      return { kind: 'endpoint', namespace: third ?? '', service: second ?? '', endpoint: first };
    case 4: {
      const protocol = protocolOf(second);
      if (first === undefined || !first.startsWith('_') || first.length < 2 || protocol === null) return { kind: 'invalid' };
      return { kind: 'port', namespace: fourth ?? '', service: third ?? '', port: first.slice(1), protocol };
    }
    default: return { kind: 'invalid' };
  }
}

function classifyPodName(labels: readonly string[]): ClusterName {
  const [first, second] = labels;
  if (labels.length === 0) return { kind: 'zone' };
  if (labels.length === 1) return { kind: 'namespace', tree: 'pod', namespace: first ?? '' };
  if (labels.length !== 2 || first === undefined || second === undefined) return { kind: 'invalid' };
  const ip = ipFromDashed(first);
  return ip === null ? { kind: 'invalid' } : { kind: 'pod', namespace: second, ip };
}

function protocolOf(label: string | undefined): ServiceProtocol | null {
  switch (label) {
    case '_tcp': return 'TCP';
    case '_udp': return 'UDP';
    case '_sctp': return 'SCTP';
    default: return null;
  }
}

/** `10-1-2-3` → `10.1.2.3`; `fd00--1` → `fd00::1`; null when it is no address. */
export function ipFromDashed(label: string): string | null {
  const v4 = label.replace(/-/g, '.');
  if (ipaddr.IPv4.isValidFourPartDecimal(v4)) return ipaddr.IPv4.parse(v4).toString();
  const v6 = label.replace(/-/g, ':');
  if (v6.includes(':') && ipaddr.IPv6.isValid(v6)) return ipaddr.IPv6.parse(v6).toString();
  return null;
}

/** The inverse, as Kubernetes names an endpoint without a hostname (`10.1.2.3` → `10-1-2-3`). */
export function dashedIp(ip: string): string {
  return ip.replace(/[.:]/g, '-');
}

export function isIPv4(ip: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(ip);
}

export function isIPv6(ip: string): boolean {
  return !isIPv4(ip) && ipaddr.IPv6.isValid(ip);
}
