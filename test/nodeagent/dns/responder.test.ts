/**
 * The DNS server's message handling with queries built by dns-packet, as a client's resolver
 * sends them, against a fake catalog and a fake forwarder: header flags and ids, UDP truncation
 * (plain 512 bytes, EDNS0) versus TCP, the error answers a real server gives (FORMERR, NOTIMP,
 * REFUSED, SERVFAIL), and forwarding of names outside the cluster domain.
 */
import * as dnsPacket from 'dns-packet';
import type { Packet } from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../kubelet/harness.js';
import { DnsForwardError } from '../../../nodeagent/dns/errors.js';
import type { Forwarder } from '../../../nodeagent/dns/forwarder.js';
import { respond, type ResponderDeps } from '../../../nodeagent/dns/responder.js';
import { FakeCatalog, service, slice } from './fake-catalog.js';

// dns-packet does not compress names: each A record of this name takes 42 bytes, 20 of them pass 512 and fit 1232.
const many = Array.from({ length: 20 }, (_, i) => ({ ip: `127.64.9.${i + 1}` }));

function deps(forwarder?: Forwarder): ResponderDeps {
  const catalog = new FakeCatalog()
    .addService(service('shop', 'web', { clusterIP: '127.96.0.10', ports: [{ name: 'http', port: 80 }] }))
    .addService(service('shop', 'big', { clusterIP: 'None', ports: [{ name: 'x', port: 1 }] }), [slice('big', many, [{ name: 'x', port: 1 }])])
    .addService(service('shop', 'db', { type: 'ExternalName', externalName: 'db.example.test' }));
  return {
    catalog, clusterDomain: 'cluster.local', logger: silentLogger(),
    forwarder: forwarder ?? { inFlight: () => 0, forward: async () => { throw new DnsForwardError([], 'none in this test'); } },
  };
}

function query(name: string, type: 'A' | 'AAAA' | 'SRV' | 'TXT' = 'A', extra: Partial<Packet> = {}): Buffer {
  return dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }], ...extra });
}

async function ask(message: Buffer, transport: 'udp' | 'tcp' = 'udp', using = deps()) {
  const reply = await respond(message, transport, using);
  if (reply === null) throw new Error('no reply');
  return { bytes: reply, packet: dnsPacket.decode(reply) as dnsPacket.DecodedPacket & { rcode: string } };
}

describe('responder', () => {
  it('answers a cluster name authoritatively, echoing the id, the question and RD, offering recursion', async () => {
    const { packet } = await ask(query('web.shop.svc.cluster.local'));
    expect(packet).toMatchObject({ id: 4242, type: 'response', rcode: 'NOERROR', flag_aa: true, flag_rd: true, flag_ra: true, flag_tc: false });
    expect(packet.questions).toEqual([{ name: 'web.shop.svc.cluster.local', type: 'A', class: 'IN' }]);
    expect(packet.answers).toMatchObject([{ type: 'A', data: '127.96.0.10', ttl: 5 }]);
  });

  it('says NXDOMAIN with the SOA for a missing name, SERVFAIL before the catalog loaded', async () => {
    const { packet } = await ask(query('nope.shop.svc.cluster.local'));
    expect(packet.rcode).toBe('NXDOMAIN');
    expect(packet.authorities).toMatchObject([{ type: 'SOA', name: 'cluster.local' }]);
    const unsynced = deps();
    (unsynced.catalog as FakeCatalog).setSynced(false);
    expect((await ask(query('web.shop.svc.cluster.local'), 'udp', unsynced)).packet.rcode).toBe('SERVFAIL');
  });

  it('truncates an answer too large for plain UDP (TC, no records), sends it whole over TCP and to an EDNS0 client', async () => {
    const udp = await ask(query('big.shop.svc.cluster.local'));
    expect(udp.bytes.length).toBeLessThanOrEqual(512);
    expect(udp.packet).toMatchObject({ flag_tc: true, answers: [] });
    const tcp = await ask(query('big.shop.svc.cluster.local'), 'tcp');
    expect(tcp.packet.flag_tc).toBe(false);
    expect(tcp.packet.answers).toHaveLength(20);
    const edns = await ask(query('big.shop.svc.cluster.local', 'A', {
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
    }));
    expect(edns.bytes.length).toBeLessThanOrEqual(1232);
    expect(edns.packet.answers).toHaveLength(20);
    expect(edns.packet.additionals).toMatchObject([{ type: 'OPT', udpPayloadSize: 1232 }]);
  });

  it('answers FORMERR to bytes that do not decode and to two questions, NOTIMP to another opcode, REFUSED to another class', async () => {
    const garbage = Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01]), Buffer.alloc(6), Buffer.from([0xff, 0xff])]);
    const formErr = await ask(garbage);
    expect(formErr.packet).toMatchObject({ id: 0x1234, rcode: 'FORMERR', type: 'response' });
    const two = dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'a.cluster.local' }, { type: 'A', name: 'b.cluster.local' }] });
    expect((await ask(two)).packet.rcode).toBe('FORMERR');
    const status = dnsPacket.encode({ type: 'query', id: 2, flags: 2 << 11, questions: [{ type: 'A', name: 'web.shop.svc.cluster.local' }] });
    expect((await ask(status)).packet.rcode).toBe('NOTIMP');
    const chaos = dnsPacket.encode({ type: 'query', id: 3, questions: [{ type: 'A', name: 'web.shop.svc.cluster.local', class: 'CH' }] });
    expect((await ask(chaos)).packet.rcode).toBe('REFUSED');
    expect(await respond(dnsPacket.encode({ type: 'response', id: 5, questions: [] }), 'udp', deps())).toBeNull();
    expect(await respond(Buffer.from([1, 2, 3]), 'udp', deps())).toBeNull();
  });

  it('follows an ExternalName CNAME upstream and adds its target\'s addresses (stub resolvers do not chase it); a target that does not resolve leaves the CNAME', async () => {
    const asked: string[] = [];
    const forwarder: Forwarder = {
      inFlight: () => 0,
      forward: async (message) => {
        const q = dnsPacket.decode(message);
        asked.push(`${q.questions?.[0]?.type} ${q.questions?.[0]?.name}`);
        return dnsPacket.encode({ type: 'response', id: q.id ?? 0, questions: q.questions ?? [], answers: [{ type: 'A', name: 'db.example.test', ttl: 60, data: '127.77.0.9' }] });
      },
    };
    const { packet } = await ask(query('db.shop.svc.cluster.local'), 'udp', deps(forwarder));
    expect(asked).toEqual(['A db.example.test']);
    expect(packet.answers).toMatchObject([{ type: 'CNAME', data: 'db.example.test' }, { type: 'A', name: 'db.example.test', data: '127.77.0.9' }]);
    const alone = await ask(query('db.shop.svc.cluster.local'));
    expect(alone.packet.answers).toMatchObject([{ type: 'CNAME', data: 'db.example.test' }]);
  });

  it('forwards other names unchanged over the client transport and relays the reply; SERVFAIL when no upstream answers', async () => {
    const seen: { message: Buffer; transport: string }[] = [];
    const upstreamReply = dnsPacket.encode({ type: 'response', id: 4242, questions: [{ type: 'A', name: 'example.com' }], answers: [{ type: 'A', name: 'example.com', data: '127.0.0.9' }] });
    const forwarder: Forwarder = { inFlight: () => 0, forward: async (message, transport) => { seen.push({ message, transport }); return upstreamReply; } };
    const message = query('example.com');
    const { bytes } = await ask(message, 'tcp', deps(forwarder));
    expect(bytes).toEqual(upstreamReply);
    expect(seen).toEqual([{ message, transport: 'tcp' }]);
    const failed = await ask(query('example.com'));
    expect(failed.packet).toMatchObject({ rcode: 'SERVFAIL', flag_aa: false, id: 4242 });
  });
});
