/**
 * The host's resolver configuration (resolv.conf(5)): where names outside the cluster domain are
 * forwarded, and what a pod with `dnsPolicy: Default` inherits. Parsing is pure; reading the
 * file is one function so tests pass their own text.
 */
import { readFileSync } from 'node:fs';
import { dnsLimits } from './limits.js';
import { isIPv4, isIPv6 } from './names.js';

export interface ResolverConfig {
  readonly nameservers: readonly string[];
  readonly searches: readonly string[];
  readonly options: readonly string[];
}

export interface Upstream {
  readonly address: string;
  readonly port: number;
}

export const hostResolvConfPath = '/etc/resolv.conf';

/** glibc's reading: the last `search`/`domain` line wins; `nameserver` lines accumulate; comments start with `#` or `;`. */
export function parseResolvConf(text: string): ResolverConfig {
  const nameservers: string[] = [];
  let searches: string[] = [];
  const options: string[] = [];
  for (const raw of text.split('\n')) {
    const [keyword, ...values] = raw.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (keyword === 'nameserver' && values[0] !== undefined) {
      const address = values[0].replace(/%.*$/, '');
      if (isIPv4(address) || isIPv6(address)) nameservers.push(address);
    } else if (keyword === 'search' || keyword === 'domain') {
      searches = values.filter((value) => value !== '');
    } else if (keyword === 'options') {
      options.push(...values.filter((value) => value !== ''));
    }
  }
  return { nameservers, searches, options };
}

/** The host's configuration; an unreadable file is an empty one (no upstreams: outside names get SERVFAIL, and the log says why). */
export function readResolvConf(path: string = hostResolvConfPath): ResolverConfig {
  try {
    return parseResolvConf(readFileSync(path, 'utf8'));
  } catch {
    return { nameservers: [], searches: [], options: [] };
  }
}

/**
 * Where to forward: the host's nameservers on port 53, without this server itself (a host whose
 * resolv.conf names the node's DNS address would otherwise loop a query to itself until it times
 * out), at most `upstreamsMax` as glibc.
 */
export function upstreamsFrom(config: ResolverConfig, self: Upstream): Upstream[] {
  return config.nameservers
    .map((address) => ({ address, port: 53 }))
    .filter((upstream) => !(upstream.address === self.address && upstream.port === self.port))
    .slice(0, dnsLimits.upstreamsMax);
}
