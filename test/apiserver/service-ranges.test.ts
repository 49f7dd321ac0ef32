/**
 * The Service ranges of the member's flags: IPv4 CIDRs within Kubernetes' bounds, node port
 * ranges in Kubernetes' forms, and start-up errors that name the flag; plus the choice of a free
 * candidate from the member's view (never a held, pending or excluded address; null when full).
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../bus/index.js';
import {
  AllocationView, ServiceRangeFlagError, kubernetesServiceIp, parseClusterIpRange, parseNodePortRange, parseServiceRanges, ipv4ToNumber, numberToIpv4,
} from '../../actors/apiserver/services/index.js';

describe('--service-cluster-ip-range', () => {
  it('keeps the network, broadcast and first (kubernetes) addresses out of what is chosen', () => {
    const range = parseClusterIpRange('127.96.0.0/16');
    expect(range.cidr).toBe('127.96.0.0/16');
    expect(numberToIpv4(range.first)).toBe('127.96.0.1');
    expect(numberToIpv4(range.dynamicFirst)).toBe('127.96.0.2');
    expect(numberToIpv4(range.last)).toBe('127.96.255.254');
    expect(kubernetesServiceIp(range)).toBe('127.96.0.1');
  });

  it('masks a host address to its network, as Kubernetes parses a CIDR', () => {
    expect(parseClusterIpRange('127.96.3.7/24').cidr).toBe('127.96.3.0/24');
  });

  it.each([
    ['127.96.0.0', 'must be an IPv4 CIDR'],
    ['fd00::/108', 'only IPv4 ranges are supported'],
    ['127.96.0.0/16,fd00::/108', 'dual-stack ranges are not supported'],
    ['10.0.0.0/8', 'the prefix length must be at least 12'],
    ['127.96.0.0/31', 'the prefix length must be at most 30'],
  ])('refuses %s naming the flag', (value, reason) => {
    expect(() => parseClusterIpRange(value)).toThrow(ServiceRangeFlagError);
    expect(() => parseClusterIpRange(value)).toThrow(`--service-cluster-ip-range ${JSON.stringify(value)}: `);
    expect(() => parseClusterIpRange(value)).toThrow(reason);
  });

  it('reads only canonical dotted quads as addresses', () => {
    expect(ipv4ToNumber('127.96.0.1')).toBe(127 * 2 ** 24 + 96 * 2 ** 16 + 1);
    expect(ipv4ToNumber('127.096.0.1')).toBeNull();
    expect(ipv4ToNumber('None')).toBeNull();
    expect(ipv4ToNumber('::1')).toBeNull();
  });
});

describe('--service-node-port-range', () => {
  it.each([
    ['30000-32767', 30000, 32767],
    ['30000+99', 30000, 30099],
    ['31000', 31000, 31000],
  ])('reads %s', (text, first, last) => {
    expect(parseNodePortRange(text)).toEqual({ text: `${first}-${last}`, first, last });
  });

  it.each(['abc', '0-10', '30000-70000', '32767-30000'])('refuses %s naming the flag', (value) => {
    expect(() => parseNodePortRange(value)).toThrow(`--service-node-port-range ${JSON.stringify(value)}: `);
  });

  it('defaults both ranges', () => {
    const ranges = parseServiceRanges({});
    expect(ranges.clusterIps.cidr).toBe('127.96.0.0/16');
    expect(ranges.nodePorts.text).toBe('30000-32767');
  });
});

describe('candidate choice', () => {
  const view = (): AllocationView => new AllocationView({ client: null as never, clock: null as never, random: new Prng(5), logger: null as never });

  it('never picks a held, pending or excluded address, and says null when none is left', () => {
    const v = view();
    const range = { first: 30000, last: 30009 };
    v.markHeld({ kind: 'port', value: 30000 });
    v.reserve({ kind: 'port', value: 30001 });
    const exclude = new Set(['port:30002']);
    const picked = new Set<number>();
    for (let i = 0; i < 7; i++) {
      const value = v.chooseFree('port', range, exclude);
      expect(value).not.toBeNull();
      expect([30000, 30001, 30002]).not.toContain(value);
      expect(picked.has(value as number)).toBe(false);
      picked.add(value as number);
      v.reserve({ kind: 'port', value: value as number });
    }
    expect(v.chooseFree('port', range, exclude)).toBeNull();
    v.unreserve({ kind: 'port', value: 30001 });
    expect(v.chooseFree('port', range, exclude)).toBe(30001);
    // Kinds do not mix: port 30005 held says nothing of an address numbered 30005.
    expect(v.isHeld({ kind: 'ip', value: 30005 })).toBe(false);
  });

  it('spreads picks over a large free range', () => {
    const v = view();
    const picks = new Set(Array.from({ length: 50 }, () => v.chooseFree('ip', { first: 1000, last: 66_000 }, new Set())));
    expect(picks.size).toBeGreaterThan(45);
  });
});
