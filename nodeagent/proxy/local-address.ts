/**
 * Making a non-loopback ClusterIP local so the proxy can listen on it.
 *
 * Decision: a `local` route for the one address (`ip route replace local <ip>/32 dev lo table
 * local`), added only when the agent runs as root and only when binding failed because the address
 * is not on this host. Loopback ClusterIPs (127.96.0.0/16, `kubus up` and tests) need nothing:
 * Linux delivers all of 127.0.0.0/8 locally. Cost: one kernel route per ClusterIP, host-wide (the
 * host can no longer reach a real machine at that address, which is what a service range means
 * anyway), no kernel module, no NAT rules; packets still cross user space (the proxy), which is
 * the throughput cost measured by `npm run bench:proxy`. The routes added are removed when the
 * proxy stops. Without root the address is logged once as not served, with this reason.
 */
import { execFile } from 'node:child_process';
import ipaddr from 'ipaddr.js';

export function isLoopback(address: string): boolean {
  try {
    return ipaddr.parse(address).range() === 'loopback';
  } catch {
    return false;
  }
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function ipCommand(verb: 'replace' | 'del', address: string): string[] {
  const v6 = address.includes(':');
  return [...(v6 ? ['-6'] : []), 'route', verb, 'local', `${address}/${v6 ? 128 : 32}`, 'dev', 'lo', 'table', 'local'];
}

function run(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 5_000 }, (error, _stdout, stderr) => {
      if (error !== null) reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}

/** The local routes this proxy added, to remove at stop. */
export class LocalRoutes {
  private readonly added = new Set<string>();

  async add(address: string): Promise<void> {
    await run(ipCommand('replace', address));
    this.added.add(address);
  }

  async removeAll(): Promise<void> {
    const addresses = [...this.added];
    this.added.clear();
    await Promise.allSettled(addresses.map((address) => run(ipCommand('del', address))));
  }
}
