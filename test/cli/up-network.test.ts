/**
 * `kubus up`'s address plan (issue 12): the flags members and agents get, and the lines `up`
 * prints, read back from the argv recorded in cluster.json (so an older cluster prints what it
 * really runs with). The ranges must not overlap: pods end below the Service range.
 */
import { createSocket } from 'node:dgram';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import type { ClusterFile, ClusterProcess } from '../../actors/cli/commands/cluster-file.js';
import {
  localAddressHeld,
  agentNetworkArgs, describeClusterAddresses, describeNodeAddresses, localAddressPlan, localClusterDns, localNodeIp, memberNetworkArgs, upCloudProvider,
} from '../../actors/cli/commands/up-network.js';

const server = (argv: string[]): ClusterProcess => ({ role: 'server', id: 's1', pid: 0, argv: ['kubus', 'server', ...argv], dataDir: 's1', log: 's1.log' });
const agent = (id: string, argv: string[]): ClusterProcess => ({ role: 'agent', id, pid: 0, argv: ['kubus', 'agent', ...argv], dataDir: id, log: `${id}.log` });
const cluster = (processes: ClusterProcess[]): ClusterFile => ({ cluster: 'kubus', natsUrl: 'nats://127.0.0.1:4222', members: ['s1'], processes });

describe('kubus up: the address plan', () => {
  it('keeps every range on loopback and apart', () => {
    const ranges = [localAddressPlan.clusterCidr, localAddressPlan.serviceClusterIpRange, localAddressPlan.loadBalancerPool, '127.32.0.0/24'].map((r) => ipaddr.parseCIDR(r));
    for (const [address] of ranges) expect(address.range()).toBe('loopback');
    for (const [i, a] of ranges.entries()) {
      for (const b of ranges.slice(i + 1)) {
        expect([a[0].match(b), b[0].match(a)], `${a.toString()} and ${b.toString()}`).toEqual([false, false]);
      }
    }
  });

  it('gives members the ranges and the local cloud provider unless turned off', () => {
    expect(memberNetworkArgs('local')).toEqual([
      '--cluster-cidr', '127.64.0.0/11', '--node-cidr-mask-size', '24', '--service-cluster-ip-range', '127.96.0.0/16',
      '--service-node-port-range', '30000-32767', '--cloud-provider', 'local',
    ]);
    expect(memberNetworkArgs(null)).not.toContain('--cloud-provider');
    expect([undefined, true, false, 'sim'].map(upCloudProvider)).toEqual(['local', 'local', null, 'sim']);
  });

  it('gives agent i its own node address, with the cluster DNS there (port 53 only when privileged)', () => {
    expect(agentNetworkArgs(1, true)).toEqual(['--node-ip', '127.32.0.1', '--cluster-dns', '127.32.0.1:53']);
    expect(agentNetworkArgs(2, false)).toEqual(['--node-ip', '127.32.0.2', '--cluster-dns', '127.32.0.2:1053']);
    expect(localClusterDns(254, true)).toBe('127.32.0.254:53');
    expect(() => localNodeIp(0)).toThrow(/agents 1 to 254/);
    expect(() => localNodeIp(255)).toThrow(/agents 1 to 254/);
  });

  it('prints the ranges recorded in cluster.json', () => {
    const file = cluster([server(memberNetworkArgs('local')), agent('kubus-agent-1', ['--runtime', 'process', ...agentNetworkArgs(1, true)]),
      agent('kubus-agent-2', ['--runtime', 'process', ...agentNetworkArgs(2, false)]), agent('kubus-agent-3', ['--runtime', 'hollow', ...agentNetworkArgs(3, true)])]);
    expect(describeClusterAddresses(file)).toBe('addresses, all on loopback (served with no network setup): Services 127.96.0.0/16 (the first is the kubernetes Service), ' +
      'NodePorts 30000-32767, pods 127.64.0.0/11 (a /24 per node), load balancers 127.98.0.0/24 (cloud provider local)');
    expect(describeNodeAddresses(file)).toEqual([
      'node kubus-agent-1: address 127.32.0.1 (NodePorts), cluster DNS 127.32.0.1:53',
      'node kubus-agent-2: address 127.32.0.2 (NodePorts), cluster DNS 127.32.0.2:1053 (port 53 needs root; pods get the address in KUBUS_DNS_SERVER)',
      'node kubus-agent-3: address 127.32.0.3 (hollow: no service proxy, no cluster DNS)',
    ]);
    // A cluster started before issue 12: its old pod range, no cloud provider, agents on 127.0.0.1.
    const old = cluster([server(['--cluster-cidr', '127.64.0.0/10', '--node-cidr-mask-size', '24']), agent('a', ['--runtime', 'process', '--node-ip', '127.0.0.1'])]);
    expect(describeClusterAddresses(old)).toMatch(/Services 127\.96\.0\.0\/16 .*pods 127\.64\.0\.0\/10 \(a \/24 per node\), no load balancers \(no cloud provider\)$/);
    expect(describeNodeAddresses(old)).toEqual(['node a: address 127.0.0.1 (NodePorts), cluster DNS 127.0.0.1:53']);
  });
});

describe('a second local cluster on the host', () => {
  it('is refused when the plan\'s node 1 DNS address is held by another process', async () => {
    const [address, port] = localClusterDns(1, false).split(':') as [string, string];
    const holder = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      holder.once('error', reject);
      holder.bind({ address, port: Number(port), exclusive: true }, () => resolve());
    });
    try {
      expect(await localAddressHeld(false)).toBe(`${address}:${port}/udp (node 1's cluster DNS)`);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });
});
