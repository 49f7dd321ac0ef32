/**
 * Node IPAM's pure allocator: a cluster CIDR cut into node ranges, each handed out once, the ranges
 * Nodes already hold occupied before anything is allocated, released ranges reused (last, as the
 * allocator rotates), a full range reported, dual stack, and bad flags refused by name.
 */
import { describe, expect, it } from 'vitest';
import { CidrSet, InvalidCidrError, InvalidNodeCidrMaskError, NodeCidrAllocator, formatCidr, nodeIpamSettings, parseCidr } from '../../actors/controllers/nodeipam/index.js';
import { InvalidControllerOptionError } from '../../actors/controllers/nodelifecycle/errors.js';

describe('parseCidr / formatCidr', () => {
  it('normalizes host bits away and prints IPv6 compressed', () => {
    expect(formatCidr(parseCidr('10.244.3.7/16'))).toBe('10.244.0.0/16');
    expect(formatCidr(parseCidr('fd00:0:0:0::/48'))).toBe('fd00::/48');
    expect(formatCidr(parseCidr('2001:db8:0:1:0:0:0:0/64'))).toBe('2001:db8:0:1::/64');
  });
  it('refuses what is not a CIDR', () => {
    for (const bad of ['10.244.0.0', '10.244.0.0/33', '10.256.0.0/16', 'fd00::1::/64', 'x/8']) expect(() => parseCidr(bad)).toThrow(InvalidCidrError);
  });
});

describe('CidrSet', () => {
  it('hands out every /24 of a /22 once, in order, then nothing', () => {
    const set = new CidrSet('10.244.0.0/22', 24);
    expect(set.capacity).toBe(4);
    expect([set.allocateNext(), set.allocateNext(), set.allocateNext(), set.allocateNext()]).toEqual(['10.244.0.0/24', '10.244.1.0/24', '10.244.2.0/24', '10.244.3.0/24']);
    expect(set.allocateNext()).toBeUndefined();
  });
  it('skips occupied ranges and rotates past the last one handed out before reusing a released one', () => {
    const set = new CidrSet('10.244.0.0/22', 24);
    expect(set.occupy('10.244.1.0/24')).toBe(true);
    expect(set.allocateNext()).toBe('10.244.0.0/24');
    expect(set.allocateNext()).toBe('10.244.2.0/24');
    set.release('10.244.0.0/24');
    expect(set.allocateNext()).toBe('10.244.3.0/24');
    expect(set.allocateNext()).toBe('10.244.0.0/24');
    expect(set.allocated).toBe(4);
  });
  it('occupies every range a larger Node range covers and ignores ranges outside the cluster CIDR', () => {
    const set = new CidrSet('10.244.0.0/22', 24);
    expect(set.occupy('10.244.2.0/23')).toBe(true);
    expect(set.allocated).toBe(2);
    expect(set.occupy('10.245.0.0/24')).toBe(false);
    expect(set.occupy('fd00::/64')).toBe(false);
    expect(set.allocated).toBe(2);
  });
  it('IPv6: /64s of a /56', () => {
    const set = new CidrSet('fd00:10:244::/56', 64);
    expect(set.capacity).toBe(256);
    expect(set.allocateNext()).toBe('fd00:10:244::/64');
    expect(set.allocateNext()).toBe('fd00:10:244:1::/64');
  });
  it('refuses mask sizes that do not fit, and splits above 2^16 ranges', () => {
    expect(() => new CidrSet('10.244.0.0/16', 8)).toThrow(InvalidNodeCidrMaskError);
    expect(() => new CidrSet('10.0.0.0/8', 25)).toThrow(/2\^16/);
    expect(() => new CidrSet('fd00::/48', 64)).not.toThrow();
    expect(() => new CidrSet('fd00::/32', 64)).toThrow(InvalidNodeCidrMaskError);
  });
});

describe('NodeCidrAllocator', () => {
  const settings = { clusterCidr: '10.244.0.0/22', nodeMaskSizeIpv4: 24, nodeMaskSizeIpv6: 64 };

  it('never gives a range a Node already holds: existing Nodes are occupied first', () => {
    const allocator = new NodeCidrAllocator(settings);
    expect(allocator.occupy('a', ['10.244.0.0/24'])).toEqual({ foreign: [], overlapping: [] });
    expect(allocator.occupy('b', ['10.244.2.0/24'])).toEqual({ foreign: [], overlapping: [] });
    expect(allocator.allocate('c')).toEqual({ kind: 'allocated', podCidrs: ['10.244.1.0/24'] });
    expect(allocator.allocate('d')).toEqual({ kind: 'allocated', podCidrs: ['10.244.3.0/24'] });
    expect(allocator.allocate('e')).toEqual({ kind: 'exhausted', clusterCidr: '10.244.0.0/22 (4 ranges of /24, all in use)' });
    allocator.release('b');
    expect(allocator.allocate('e')).toEqual({ kind: 'allocated', podCidrs: ['10.244.2.0/24'] });
    expect(allocator.ownerOf('10.244.2.0/24')).toBe('e');
  });
  it('occupying a Node\'s own ranges again changes nothing; another Node\'s range is reported as overlapping', () => {
    const allocator = new NodeCidrAllocator(settings);
    allocator.occupy('a', ['10.244.0.0/24']);
    expect(allocator.occupy('a', ['10.244.0.0/24'])).toEqual({ foreign: [], overlapping: [] });
    expect(allocator.occupy('b', ['10.244.0.0/24', '192.168.0.0/24'])).toEqual({ foreign: ['192.168.0.0/24'], overlapping: ['10.244.0.0/24'] });
    // a's deletion leaves the range used: b still holds it.
    allocator.release('a');
    expect([allocator.allocate('c'), allocator.allocate('d'), allocator.allocate('e')].map((r) => r.kind)).toEqual(['allocated', 'allocated', 'allocated']);
    expect(allocator.allocate('f').kind).toBe('exhausted');
  });
  it('dual stack: one range per family, in the order of --cluster-cidr; a family running out holds nothing', () => {
    const allocator = new NodeCidrAllocator({ clusterCidr: '10.244.0.0/23,fd00::/63', nodeMaskSizeIpv4: 24, nodeMaskSizeIpv6: 64 });
    expect(allocator.allocate('a')).toEqual({ kind: 'allocated', podCidrs: ['10.244.0.0/24', 'fd00::/64'] });
    allocator.occupy('b', ['fd00:0:0:1::/64']);
    expect(allocator.allocate('c').kind).toBe('exhausted');
    allocator.release('b');
    expect(allocator.allocate('c')).toEqual({ kind: 'allocated', podCidrs: ['10.244.1.0/24', 'fd00:0:0:1::/64'] });
  });
  it('refuses two CIDRs of one family', () => {
    expect(() => new NodeCidrAllocator({ ...settings, clusterCidr: '10.0.0.0/16,10.1.0.0/16' })).toThrow(InvalidCidrError);
  });
});

describe('nodeIpamSettings', () => {
  it('defaults as kube-controller-manager, --node-cidr-mask-size for single stack, flags named on error', () => {
    expect(nodeIpamSettings({})).toEqual({ clusterCidr: '10.244.0.0/16', nodeMaskSizeIpv4: 24, nodeMaskSizeIpv6: 64 });
    expect(nodeIpamSettings({ clusterCidr: '10.0.0.0/8', nodeCidrMaskSize: '20' })).toEqual({ clusterCidr: '10.0.0.0/8', nodeMaskSizeIpv4: 20, nodeMaskSizeIpv6: 20 });
    expect(nodeIpamSettings({ clusterCidr: 'fd00::/48', nodeCidrMaskSize: 24 }).nodeMaskSizeIpv6).toBe(64);
    expect(nodeIpamSettings({ clusterCidr: 'fd00::/48', nodeCidrMaskSize: 56 }).nodeMaskSizeIpv6).toBe(56);
    expect(nodeIpamSettings({ clusterCidr: '10.0.0.0/8,fd00::/48', nodeCidrMaskSize: 56 }).nodeMaskSizeIpv6).toBe(64);
    expect(() => nodeIpamSettings({ nodeCidrMaskSizeIpv4: 'x' })).toThrow(InvalidControllerOptionError);
    expect(() => nodeIpamSettings({ nodeCidrMaskSizeIpv4: 'x' })).toThrow(/--node-cidr-mask-size-ipv4/);
  });
});
