/**
 * The far agent's decision about one open (nodeagent/tunnel/target.ts), as pure functions: the
 * header is untrusted input (any agent or member may send one), so each malformed field is refused
 * by name; an address is accepted only when it is a ready pod sandbox of this node, compared in one
 * spelling (IPv4-mapped IPv6, compressed IPv6).
 */
import { describe, expect, it } from 'vitest';
import { decideTarget, parseTarget } from '../../../nodeagent/tunnel/index.js';
import type { PodSandboxStatus } from '../../../nodeagent/runtime/types.js';

const sandbox = (ip: string | null, state: 'ready' | 'notready' = 'ready'): PodSandboxStatus => ({ id: `sb-${ip}`, podUid: 'u', state, ip, createdAtMs: 0, labels: {} });
const target = { node: 'b', address: '127.64.1.5', port: 8080, protocol: 'TCP' as const };

describe('tunnel target', () => {
  it('parses a well-formed target addressed to this node', () => {
    expect(parseTarget(target, 'b')).toEqual({ accept: true, target });
    expect(parseTarget({ ...target, address: '::ffff:127.64.1.5' }, 'b')).toEqual({ accept: true, target });
  });

  it('refuses a malformed header, naming the field', () => {
    expect(parseTarget(null, 'b')).toMatchObject({ accept: false, reason: 'badTarget' });
    expect(parseTarget({ ...target, node: 'c' }, 'b')).toMatchObject({ accept: false, reason: 'wrongNode' });
    expect(parseTarget({ ...target, address: 'example.com' }, 'b')).toMatchObject({ accept: false, reason: 'badTarget', message: expect.stringContaining('address') });
    expect(parseTarget({ ...target, port: 0 }, 'b')).toMatchObject({ accept: false, reason: 'badTarget', message: expect.stringContaining('port') });
    expect(parseTarget({ ...target, port: 70_000 }, 'b')).toMatchObject({ accept: false, reason: 'badTarget' });
    expect(parseTarget({ ...target, protocol: 'SCTP' }, 'b')).toMatchObject({ accept: false, reason: 'badTarget', message: expect.stringContaining('protocol') });
  });

  it('accepts only the address of a ready pod sandbox', () => {
    expect(decideTarget(target, [sandbox('127.64.1.4'), sandbox('127.64.1.5')])).toEqual({ accept: true, target });
    expect(decideTarget(target, [sandbox('127.64.1.5', 'notready')])).toMatchObject({ accept: false, reason: 'notAPod' });
    expect(decideTarget(target, [sandbox(null), sandbox('127.64.1.6')])).toMatchObject({ accept: false, reason: 'notAPod', message: expect.stringContaining('127.64.1.5') });
    expect(decideTarget({ ...target, address: 'fd00::0:1' }, [sandbox('fd00::1')])).toMatchObject({ accept: true, target: { address: 'fd00::1' } });
    // A pod sharing the node's address (hostNetwork) would open every port of the host: refused.
    expect(decideTarget({ ...target, address: '127.32.0.1' }, [sandbox('127.32.0.1')], ['127.32.0.1'])).toMatchObject({ accept: false, reason: 'notAPod', message: expect.stringContaining('own address') });
    expect(decideTarget({ ...target, address: '0.0.0.0' }, [sandbox('0.0.0.0')])).toMatchObject({ accept: false, reason: 'notAPod' });
  });
});
