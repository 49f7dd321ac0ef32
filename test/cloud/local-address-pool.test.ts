/**
 * The address choice both shipped providers use, and the `local` provider's configuration: a
 * pool from a CIDR or a list, a Service keeps the address its status (or spec.loadBalancerIP)
 * names, otherwise a hash of namespace/name picks a stable start and the first free address
 * after it wins; a full pool gives null; bad configurations name the field.
 */
import { describe, expect, it } from 'vitest';
import { AddressPool, AddressPoolError, CloudConfigInvalidError, chooseAddress, parseLocalConfig } from '../../actors/cloud/providers/index.js';

describe('AddressPool', () => {
  it('leaves out the network and broadcast addresses of a CIDR', () => {
    const pool = AddressPool.fromCidr('127.98.0.0/24');
    expect(pool.size).toBe(254);
    expect(pool.at(0)).toBe('127.98.0.1');
    expect(pool.at(253)).toBe('127.98.0.254');
    expect(pool.contains('127.98.0.0')).toBe(false);
    expect(pool.contains('127.98.0.17')).toBe(true);
    expect(pool.contains('127.98.1.1')).toBe(false);
    expect(pool.contains('not an address')).toBe(false);
  });

  it('takes every address of a /32 and a list', () => {
    expect(AddressPool.fromCidr('127.98.0.9/32').at(0)).toBe('127.98.0.9');
    const listed = AddressPool.fromList(['127.98.0.10', '127.98.0.20']);
    expect(listed.size).toBe(2);
    expect(listed.contains('127.98.0.20')).toBe(true);
    expect(listed.contains('127.98.0.11')).toBe(false);
  });

  it('refuses IPv6, oversized pools, duplicates and garbage', () => {
    expect(() => AddressPool.fromCidr('fd00::/120')).toThrow(AddressPoolError);
    expect(() => AddressPool.fromCidr('10.0.0.0/8')).toThrow(/more than the 65536/);
    expect(() => AddressPool.fromCidr('nope')).toThrow(AddressPoolError);
    expect(() => AddressPool.fromList(['127.0.0.1', '127.0.0.1'])).toThrow(/twice/);
    expect(() => AddressPool.fromList([])).toThrow(/empty/);
  });
});

describe('chooseAddress', () => {
  const pool = AddressPool.fromCidr('127.98.0.0/29'); // 6 addresses

  it('gives the same Service the same address from an empty start (a hash, not an order)', () => {
    const first = chooseAddress(pool, { key: 'default/web', preferred: [], held: new Map() });
    const again = chooseAddress(pool, { key: 'default/web', preferred: [], held: new Map([['127.98.0.99', 'default/other']]) });
    expect(first).not.toBeNull();
    expect(again).toBe(first);
  });

  it('keeps the address a Service already has when it is free or its own', () => {
    expect(chooseAddress(pool, { key: 'a/b', preferred: ['127.98.0.5'], held: new Map() })).toBe('127.98.0.5');
    expect(chooseAddress(pool, { key: 'a/b', preferred: ['127.98.0.5'], held: new Map([['127.98.0.5', 'a/b']]) })).toBe('127.98.0.5');
  });

  it('skips preferred addresses outside the pool or held by another Service', () => {
    const held = new Map([['127.98.0.5', 'x/y']]);
    const chosen = chooseAddress(pool, { key: 'a/b', preferred: ['127.98.0.5', '10.1.1.1'], held });
    expect(chosen).not.toBeNull();
    expect(chosen).not.toBe('127.98.0.5');
    expect(pool.contains(chosen as string)).toBe(true);
  });

  it('hands out every address once, then null', () => {
    const held = new Map<string, string>();
    for (let i = 0; i < pool.size; i++) {
      const address = chooseAddress(pool, { key: `ns/s${i}`, preferred: [], held });
      expect(address).not.toBeNull();
      expect(held.has(address as string)).toBe(false);
      held.set(address as string, `ns/s${i}`);
    }
    expect(chooseAddress(pool, { key: 'ns/late', preferred: [], held })).toBeNull();
  });
});

describe('local --cloud-config', () => {
  it('defaults to 127.98.0.0/24 and reads a CIDR, a list, or JSON', () => {
    expect(parseLocalConfig('f', '').pool.description).toBe('127.98.0.0/24');
    expect(parseLocalConfig('f', 'pool: 127.98.0.0/28\n').pool.size).toBe(14);
    expect(parseLocalConfig('f', '{"pool": ["127.98.0.3"]}').pool.size).toBe(1);
  });

  it('names the field that is wrong', () => {
    expect(() => parseLocalConfig('f', 'pools: 127.98.0.0/24')).toThrow(CloudConfigInvalidError);
    expect(() => parseLocalConfig('f', 'pools: 127.98.0.0/24')).toThrow(/pools: unknown field/);
    expect(() => parseLocalConfig('f', 'pool: 3')).toThrow(/pool: must be a CIDR/);
    expect(() => parseLocalConfig('f', 'pool: 10.0.0.0/8')).toThrow(/pool: .*65536/);
    expect(() => parseLocalConfig('f', '[1, 2]')).toThrow(/mapping/);
  });
});
