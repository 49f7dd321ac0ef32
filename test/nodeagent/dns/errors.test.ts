/**
 * A DNS address the agent cannot bind is reported as the problem the operator fixes, naming the
 * address and the flags that change it (the agent then runs without cluster DNS and logs this).
 */
import { describe, expect, it } from 'vitest';
import { bindProblemOf, ClusterDnsBindError } from '../../../nodeagent/dns/errors.js';

const withCode = (code: string): Error => Object.assign(new Error(`listen ${code}`), { code });

describe('ClusterDnsBindError', () => {
  it('reads the socket error as taken, privileged, or no such address', () => {
    expect(bindProblemOf(withCode('EADDRINUSE'))).toBe('inUse');
    expect(bindProblemOf(withCode('EACCES'))).toBe('privilege');
    expect(bindProblemOf(withCode('EADDRNOTAVAIL'))).toBe('addressNotAvailable');
    expect(bindProblemOf(withCode('EINVAL'))).toBe('other');
    expect(bindProblemOf(null)).toBe('other');
  });

  it('says what to do', () => {
    const error = new ClusterDnsBindError('127.32.0.1', 53, 'udp', 'privilege', { cause: withCode('EACCES') });
    expect(error.message).toBe('cluster DNS cannot listen on 127.32.0.1:53/udp: port 53 needs privilege (root, CAP_NET_BIND_SERVICE, or a lower '
      + 'net.ipv4.ip_unprivileged_port_start); choose another address or port with --cluster-dns <ip[:port]>, or run without it with --no-cluster-dns');
    expect(error.fields()).toEqual({ address: '127.32.0.1', port: 53, transport: 'udp', problem: 'privilege' });
    expect(error.code).toBe('clusterDnsBind');
    expect(new ClusterDnsBindError('127.32.0.1', 1053, 'tcp', 'other', { cause: withCode('EINVAL') }).message).toContain('listen EINVAL');
  });
});
