/**
 * Operating errors of the node's DNS server: one class per kind, with a stable `code` and what an
 * operator needs to act (the address, the flag to change).
 */
import { KubusError, type ErrorFields } from '../../bus/errors.js';

export type DnsBindProblem = 'inUse' | 'privilege' | 'addressNotAvailable' | 'other';

/** The server cannot listen where `--cluster-dns` says: the agent runs without cluster DNS and says so. */
export class ClusterDnsBindError extends KubusError {
  override readonly name = 'ClusterDnsBindError';
  readonly code = 'clusterDnsBind';
  constructor(
    readonly address: string,
    readonly port: number,
    readonly transport: 'udp' | 'tcp',
    readonly problem: DnsBindProblem,
    options?: { readonly cause?: unknown },
  ) {
    super(`cluster DNS cannot listen on ${address}:${port}/${transport}: ${describe(problem, port, options?.cause)}; `
      + 'choose another address or port with --cluster-dns <ip[:port]>, or run without it with --no-cluster-dns',
    options?.cause === undefined ? undefined : { cause: options.cause });
  }
  override fields(): ErrorFields {
    return { address: this.address, port: this.port, transport: this.transport, problem: this.problem };
  }
}

function describe(problem: DnsBindProblem, port: number, cause: unknown): string {
  switch (problem) {
    case 'inUse': return 'the port is taken by another process';
    case 'privilege': return `port ${port} needs privilege (root, CAP_NET_BIND_SERVICE, or a lower net.ipv4.ip_unprivileged_port_start)`;
    case 'addressNotAvailable': return 'no interface of this host has that address';
    case 'other': return cause instanceof Error ? cause.message : String(cause);
  }
}

/** `EADDRINUSE` & co. as the problem the operator fixes. */
export function bindProblemOf(error: unknown): DnsBindProblem {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'EADDRINUSE') return 'inUse';
  if (code === 'EACCES' || code === 'EPERM') return 'privilege';
  if (code === 'EADDRNOTAVAIL') return 'addressNotAvailable';
  return 'other';
}

/** A forward that no upstream answered (all timed out or refused): the client gets SERVFAIL. */
export class DnsForwardError extends KubusError {
  override readonly name = 'DnsForwardError';
  readonly code = 'dnsForwardFailed';
  constructor(readonly upstreams: readonly string[], readonly reason: string) {
    super(`no upstream resolver answered (${upstreams.length === 0 ? 'none configured' : upstreams.join(', ')}): ${reason}`);
  }
  override fields(): ErrorFields {
    return { upstreams: this.upstreams, reason: this.reason };
  }
}
