/**
 * How a process-runtime pod learns its resolver. There is no mount namespace to put a file at
 * `/etc/resolv.conf`, and a host process's libc reads the host's, so the runtime:
 *
 * - writes the sandbox's settings as `<pod dir>/resolv.conf` (the pod's log directory,
 *   `<dir>/pods/<namespace>_<name>_<uid>/`, where the kubelet keeps a pod's files);
 * - gives every container `KUBUS_DNS_SERVER=<ip>:<port>` (the first server; `[ip]:port` for
 *   IPv6), `KUBUS_DNS_SEARCH=<search domains, space-separated>` and `KUBUS_RESOLV_CONF=<that path>`,
 *   unless the container sets them itself.
 *
 * A pod resolves cluster names through them, e.g. in Node:
 *   `const r = new dns.promises.Resolver(); r.setServers([process.env.KUBUS_DNS_SERVER]); await r.resolve4('web.shop.svc.cluster.local')`
 * (a resolver library does not apply search domains: use the full name, or try each of
 * KUBUS_DNS_SEARCH as resolv.conf's `search` would). resolv.conf cannot carry a port: with a
 * server off port 53 only the variables say where it is.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PodSandboxConfig } from '../types.js';

export const dnsEnvironmentNames = {
  server: 'KUBUS_DNS_SERVER',
  search: 'KUBUS_DNS_SEARCH',
  resolvConf: 'KUBUS_RESOLV_CONF',
} as const;

export function podResolvConfPath(sandbox: Pick<PodSandboxConfig, 'logDirectory'>): string {
  return join(sandbox.logDirectory, 'resolv.conf');
}

/** `ip`, `ip:port`, `[ip6]:port` or a bare IPv6 address (port 53) → address and port. */
export function parseDnsServer(text: string): { readonly address: string; readonly port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed !== null) return { address: bracketed[1] ?? '', port: Number(bracketed[2] ?? 53) };
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const [address = '', port = '53'] = text.split(':');
    return { address, port: Number(port) };
  }
  return { address: text, port: 53 };
}

/** The file's text (resolv.conf(5)); a server off port 53 is written by address with a comment naming the port. */
export function resolvConfText(sandbox: Pick<PodSandboxConfig, 'namespace' | 'name' | 'dns'>): string {
  const dns = sandbox.dns ?? { servers: [], searches: [], options: [] };
  const lines = [`# kubus: resolver settings of pod ${sandbox.namespace}/${sandbox.name} (its dnsPolicy); ${dnsEnvironmentNames.server} says the same with the port`];
  for (const text of dns.servers) {
    const server = parseDnsServer(text);
    if (server.port !== 53) lines.push(`# the server below listens on port ${server.port}, which resolv.conf cannot say`);
    lines.push(`nameserver ${server.address}`);
  }
  if (dns.searches.length > 0) lines.push(`search ${dns.searches.join(' ')}`);
  if (dns.options.length > 0) lines.push(`options ${dns.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** Writes `<pod dir>/resolv.conf` when the sandbox has resolver settings; its path, or null. */
export function writePodResolvConf(sandbox: PodSandboxConfig): string | null {
  if (sandbox.dns === undefined) return null;
  mkdirSync(sandbox.logDirectory, { recursive: true });
  const path = podResolvConfPath(sandbox);
  writeFileSync(path, resolvConfText(sandbox), { mode: 0o644 });
  return path;
}

/** Adds the resolver variables to a container's environment (the container's own values win). */
export function addDnsEnvironment(env: Map<string, string>, sandbox: PodSandboxConfig | undefined): void {
  const dns = sandbox?.dns;
  if (sandbox === undefined || dns === undefined) return;
  const first = dns.servers[0];
  const values: Record<string, string | undefined> = {
    [dnsEnvironmentNames.server]: first === undefined ? undefined : serverWithPort(parseDnsServer(first)),
    [dnsEnvironmentNames.search]: dns.searches.join(' '),
    [dnsEnvironmentNames.resolvConf]: podResolvConfPath(sandbox),
  };
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && !env.has(name)) env.set(name, value);
  }
}

function serverWithPort(server: { readonly address: string; readonly port: number }): string {
  return server.address.includes(':') ? `[${server.address}]:${server.port}` : `${server.address}:${server.port}`;
}
