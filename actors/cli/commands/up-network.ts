/**
 * The address plan of a `kubus up` cluster (issue 12): every range is on loopback, which Linux
 * delivers locally for all of 127.0.0.0/8, so a listener binds any of these addresses with no
 * interface, route or nftables setup, and no test traffic ever leaves this machine.
 *
 *   members' API      127.0.0.1 (free ports)
 *   node addresses    127.32.0.<i>      agent i (1-based): its InternalIP, NodePorts, cluster DNS
 *   pod CIDR          127.64.0.0/11     a /24 per node (127.64.0.0 – 127.95.255.255)
 *   Service IPs       127.96.0.0/16     127.96.0.1 is the `kubernetes` Service
 *   load balancers    127.98.0.0/24     the `local` cloud provider's default pool
 *
 * Decision: distinct node addresses (not all 127.0.0.1) so that two agents on one host are two
 * nodes a client can tell apart: a NodePort on 127.32.0.2 is node 2's proxy, the `local` load
 * balancer forwards to each node's own address, and each node's DNS server has its own address
 * (port 53 on every one when root). The pod range was 127.64.0.0/10 before issue 12; /11 ends
 * below the Service range it overlapped.
 *
 * Pure: the flags for members and agents, and the lines `up` prints, read back from the argv
 * recorded in cluster.json (a cluster started by an older `up` prints what it really runs with).
 * One exception, `localAddressHeld`, binds the plan's well-known addresses for a moment to find
 * another local cluster on this host (every one uses this same plan).
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { ClusterFile } from './cluster-file.js';
import { kubernetesServiceClusterIp } from '../../apiserver/services/kubernetes-service.js';

export const localAddressPlan = {
  nodeAddressPrefix: '127.32.0.',
  clusterCidr: '127.64.0.0/11',
  nodeCidrMaskSize: 24,
  serviceClusterIpRange: '127.96.0.0/16',
  serviceNodePortRange: '30000-32767',
  /** The `local` provider's default pool (actors/cloud/providers/local); `up` passes no --cloud-config. */
  loadBalancerPool: '127.98.0.0/24',
  cloudProvider: 'local',
} as const;

export const upNetworkLimits = {
  /** Node addresses are 127.32.0.1 – 127.32.0.254: one /24, far more agents than one host runs. */
  agentsMax: 254,
  /** Port 53 needs root (or CAP_NET_BIND_SERVICE); unprivileged, each node's DNS listens here instead (CoreDNS' customary non-root port). */
  dnsPortUnprivileged: 1053,
  dnsPortPrivileged: 53,
} as const;

/** Node `index` (1-based)'s address. */
export function localNodeIp(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > upNetworkLimits.agentsMax) {
    throw new RangeError(`a local cluster has node addresses for agents 1 to ${upNetworkLimits.agentsMax}, not ${index}`);
  }
  return `${localAddressPlan.nodeAddressPrefix}${index}`;
}

/** Where node `index`'s DNS server listens: its own address, port 53 when privileged. */
export function localClusterDns(index: number, privileged: boolean): string {
  return `${localNodeIp(index)}:${privileged ? upNetworkLimits.dnsPortPrivileged : upNetworkLimits.dnsPortUnprivileged}`;
}

/** `--cloud-provider` for members: `local` unless `up --no-cloud-provider` (false) or another name. */
export function upCloudProvider(flag: boolean | string | undefined): string | null {
  if (flag === false) return null;
  if (flag === undefined || flag === true || flag === '') return localAddressPlan.cloudProvider;
  return flag;
}

/** The members' network flags: pod CIDRs, Service ranges, and the cloud controller manager's provider. */
export function memberNetworkArgs(cloudProvider: string | null): string[] {
  return [
    '--cluster-cidr', localAddressPlan.clusterCidr, '--node-cidr-mask-size', String(localAddressPlan.nodeCidrMaskSize),
    '--service-cluster-ip-range', localAddressPlan.serviceClusterIpRange, '--service-node-port-range', localAddressPlan.serviceNodePortRange,
    ...(cloudProvider === null ? [] : ['--cloud-provider', cloudProvider]),
  ];
}

/** Agent `index`'s network flags; its service proxy is on (the agent's default), NodePorts on its node address. */
export function agentNetworkArgs(index: number, privileged: boolean): string[] {
  return ['--node-ip', localNodeIp(index), '--cluster-dns', localClusterDns(index, privileged)];
}

/** The value of `--<name>` in a recorded argv, if given. */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(`--${name}`);
  return at < 0 ? undefined : argv[at + 1];
}

/** The cluster-wide ranges, as the first member's recorded argv has them (server defaults where absent). */
export function describeClusterAddresses(file: ClusterFile): string {
  const argv = file.processes.find((p) => p.role === 'server')?.argv ?? [];
  const services = flagValue(argv, 'service-cluster-ip-range') ?? localAddressPlan.serviceClusterIpRange;
  const nodePorts = flagValue(argv, 'service-node-port-range') ?? localAddressPlan.serviceNodePortRange;
  const pods = flagValue(argv, 'cluster-cidr') ?? '10.244.0.0/16';
  const mask = flagValue(argv, 'node-cidr-mask-size') ?? '24';
  const provider = flagValue(argv, 'cloud-provider');
  const balancers = provider === undefined
    ? 'no load balancers (no cloud provider)'
    : provider === localAddressPlan.cloudProvider && flagValue(argv, 'cloud-config') === undefined
      ? `load balancers ${localAddressPlan.loadBalancerPool} (cloud provider local)`
      : `load balancers from cloud provider ${provider}`;
  return `addresses, all on loopback (served with no network setup): Services ${services} (the first is the kubernetes Service), ` +
    `NodePorts ${nodePorts}, pods ${pods} (a /${mask} per node), ${balancers}`;
}

/** One line per agent: its node address (NodePorts listen there) and its cluster DNS address. */
export function describeNodeAddresses(file: ClusterFile): string[] {
  return file.processes.filter((p) => p.role === 'agent').map((proc) => {
    const ip = flagValue(proc.argv, 'node-ip') ?? '(the host\'s address)';
    if (flagValue(proc.argv, 'runtime') === 'hollow') return `node ${proc.id}: address ${ip} (hollow: no service proxy, no cluster DNS)`;
    const dns = flagValue(proc.argv, 'cluster-dns');
    const dnsText = dns === undefined
      ? `cluster DNS ${ip}:53`
      : dns.endsWith(`:${upNetworkLimits.dnsPortUnprivileged}`)
        ? `cluster DNS ${dns} (port 53 needs root; pods get the address in KUBUS_DNS_SERVER)`
        : `cluster DNS ${dns}`;
    return `node ${proc.id}: address ${ip} (NodePorts), ${dnsText}`;
  });
}

/** False only when something on this host holds `address:port` (EADDRINUSE); a refusal for lack of privilege tells nothing. */
async function bindable(kind: 'tcp' | 'udp', address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (kind === 'udp') {
      const socket = createSocket({ type: 'udp4' });
      socket.once('error', (error: NodeJS.ErrnoException) => { socket.close(); resolve(error.code !== 'EADDRINUSE'); });
      socket.bind({ address, port, exclusive: true }, () => socket.close(() => resolve(true)));
      return;
    }
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code !== 'EADDRINUSE'));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * The first of this plan's well-known addresses another process holds, or null. Every local
 * cluster uses the same loopback plan, so a second one on the host would have its node addresses,
 * DNS servers and cluster IPs answered by the first one's agents: `up` refuses instead.
 */
export async function localAddressHeld(privileged: boolean): Promise<string | null> {
  const dns = localClusterDns(1, privileged).split(':');
  const probes: [('tcp' | 'udp'), string, number, string][] = [
    ['udp', dns[0] as string, Number(dns[1]), 'node 1\'s cluster DNS'],
    ['tcp', kubernetesServiceClusterIp(localAddressPlan.serviceClusterIpRange), 443, 'the kubernetes Service'],
  ];
  for (const [kind, address, port, what] of probes) {
    if (!(await bindable(kind, address, port))) return `${address}:${port}/${kind} (${what})`;
  }
  return null;
}
