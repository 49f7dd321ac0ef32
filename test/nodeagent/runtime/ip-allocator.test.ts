/**
 * The pod address allocator: addresses come from the node's pod CIDR in host-local order (after
 * the last one handed out, so a released address is not reused at once), network and broadcast
 * are never handed out, a persisted snapshot restores every assignment, an address a restarted
 * agent already knows is reserved for its sandbox, and a full range is a typed error.
 */
import { describe, expect, it } from 'vitest';
import { IpAllocator, isLoopbackCidr, parseIpv4Cidr } from '../../../nodeagent/runtime/ip-allocator.js';
import { InvalidPodCidrError, PodIpExhaustedError } from '../../../nodeagent/runtime/errors.js';

describe('IpAllocator', () => {
  it('hands out host addresses in order, skipping the network address', () => {
    const allocator = new IpAllocator(parseIpv4Cidr('127.64.3.0/24'));
    expect(allocator.allocate('a')).toBe('127.64.3.1');
    expect(allocator.allocate('b')).toBe('127.64.3.2');
    expect(allocator.allocate('a')).toBe('127.64.3.1');
  });

  it('does not reuse a released address before the range wraps, then reuses it', () => {
    const allocator = new IpAllocator(parseIpv4Cidr('10.0.0.0/30'));
    expect(allocator.allocate('a')).toBe('10.0.0.1');
    expect(allocator.allocate('b')).toBe('10.0.0.2');
    allocator.release('a');
    expect(allocator.allocate('c')).toBe('10.0.0.1');
    expect(() => allocator.allocate('d')).toThrow(PodIpExhaustedError);
    allocator.release('b');
    expect(allocator.allocate('d')).toBe('10.0.0.2');
  });

  it('restores assignments and the cursor from a snapshot of the same CIDR only', () => {
    const cidr = parseIpv4Cidr('127.64.0.0/24');
    const first = new IpAllocator(cidr);
    first.allocate('a');
    first.allocate('b');
    first.release('a');
    const again = new IpAllocator(cidr, JSON.parse(JSON.stringify(first.snapshot())));
    expect(again.addressOf('b')).toBe('127.64.0.2');
    expect(again.allocate('c')).toBe('127.64.0.3');
    const moved = new IpAllocator(parseIpv4Cidr('127.64.1.0/24'), first.snapshot());
    expect(moved.addressOf('b')).toBeUndefined();
    expect(moved.allocate('c')).toBe('127.64.1.1');
  });

  it('reserves a known address for its owner, taking it over from an owner being replaced', () => {
    const allocator = new IpAllocator(parseIpv4Cidr('127.64.0.0/24'));
    expect(allocator.reserve('127.64.0.9', 'a')).toBeUndefined();
    expect(allocator.addressOf('a')).toBe('127.64.0.9');
    expect(allocator.reserve('127.64.0.9', 'b')).toBe('a');
    allocator.release('a');
    expect(allocator.addressOf('b')).toBe('127.64.0.9');
    expect(allocator.allocate('c')).not.toBe('127.64.0.9');
  });

  it('parses CIDRs, normalises the base and knows loopback ranges', () => {
    expect(parseIpv4Cidr('127.64.5.7/24').base).toBe(parseIpv4Cidr('127.64.5.0/24').base);
    expect(isLoopbackCidr(parseIpv4Cidr('127.64.0.0/10'))).toBe(true);
    expect(isLoopbackCidr(parseIpv4Cidr('10.244.0.0/24'))).toBe(false);
    for (const bad of ['10.0.0.0', '10.0.0/24', '10.0.0.256/24', '10.0.0.0/33', 'fd00::/64']) {
      expect(() => parseIpv4Cidr(bad)).toThrow(InvalidPodCidrError);
    }
    const single = new IpAllocator(parseIpv4Cidr('10.1.1.1/32'));
    expect(single.allocate('a')).toBe('10.1.1.1');
  });
});
