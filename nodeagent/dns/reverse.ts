/**
 * Reverse lookups (PTR) of cluster addresses, as CoreDNS' kubernetes plugin answers them with
 * `fallthrough in-addr.arpa ip6.arpa`: a Service's cluster IP names the Service, a headless
 * Service's endpoint names itself (`<hostname or dashed ip>.<svc>.<ns>.svc.<domain>`); any other
 * address, or any other question about a reverse name, goes to the host's resolvers.
 */
import type { Answer } from 'dns-packet';
import ipaddr from 'ipaddr.js';
import { isHeadlessService } from '../../actors/objects/index.js';
import { clusterIpsOf } from '../services/index.js';
import type { CatalogView } from './answer.js';
import { dnsLimits } from './limits.js';
import { canonicalName, dashedIp } from './names.js';

/** `4.3.2.1.in-addr.arpa` → `1.2.3.4`; the 32 nibbles of `ip6.arpa` → the IPv6 address; else null. */
export function ipFromReverseName(name: string): string | null {
  const query = canonicalName(name);
  if (query.endsWith('.in-addr.arpa')) {
    const octets = query.slice(0, -'.in-addr.arpa'.length).split('.').reverse();
    const ip = octets.join('.');
    return octets.length === 4 && ipaddr.IPv4.isValidFourPartDecimal(ip) ? ipaddr.IPv4.parse(ip).toString() : null;
  }
  if (query.endsWith('.ip6.arpa')) {
    const nibbles = query.slice(0, -'.ip6.arpa'.length).split('.').reverse();
    if (nibbles.length !== 32 || !nibbles.every((nibble) => /^[0-9a-f]$/.test(nibble))) return null;
    const groups = Array.from({ length: 8 }, (_, i) => nibbles.slice(i * 4, i * 4 + 4).join(''));
    return ipaddr.IPv6.parse(groups.join(':')).toString();
  }
  return null;
}

/** The PTR answer for a cluster address, or null when the address is not one the catalog knows. */
export function reverseAnswer(question: { readonly name: string; readonly type: string }, catalog: CatalogView, clusterDomain: string): Answer[] | null {
  if (question.type !== 'PTR' || !catalog.synced()) return null;
  const ip = ipFromReverseName(question.name);
  if (ip === null) return null;
  const domain = canonicalName(clusterDomain);
  const targets: string[] = [];
  for (const entry of catalog.entries()) {
    const service = entry.service;
    const base = `${service.metadata?.name ?? ''}.${service.metadata?.namespace ?? 'default'}.svc.${domain}`;
    if (clusterIpsOf(service).some((clusterIp) => sameIp(clusterIp, ip))) targets.push(base);
    if (!isHeadlessService(service)) continue;
    for (const slice of entry.slices) {
      for (const endpoint of slice.endpoints ?? []) {
        const address = endpoint.addresses[0];
        if (address !== undefined && sameIp(address, ip)) targets.push(`${(endpoint.hostname ?? dashedIp(address)).toLowerCase()}.${base}`);
      }
    }
    if (targets.length >= dnsLimits.recordsPerAnswerMax) break;
  }
  if (targets.length === 0) return null;
  return [...new Set(targets)].map((target) => ({ type: 'PTR', name: question.name, ttl: dnsLimits.ttlSeconds, data: target }));
}

function sameIp(a: string, b: string): boolean {
  try {
    return ipaddr.parse(a).toString() === ipaddr.parse(b).toString();
  } catch {
    return false;
  }
}
