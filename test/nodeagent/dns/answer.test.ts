/**
 * The answers of the node's DNS server to questions about the cluster domain, as a pure function
 * of the question and a catalog (a fake holding plain Services and EndpointSlices): ClusterIP
 * Services, headless Services and their endpoints, ExternalName, pods, SRV of named ports, and
 * the negative answers (NXDOMAIN, NODATA with the SOA, SERVFAIL before the catalog loaded).
 */
import { describe, expect, it } from 'vitest';
import { classifyName, resolveQuestion, type Resolution } from '../../../nodeagent/dns/index.js';
import { ipFromReverseName } from '../../../nodeagent/dns/reverse.js';
import { FakeCatalog, service, slice } from './fake-catalog.js';

const domain = 'cluster.local';

function catalog(): FakeCatalog {
  return new FakeCatalog()
    .addService(service('shop', 'web', { clusterIP: '127.96.0.10', clusterIPs: ['127.96.0.10'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 9000 }] }),
      [slice('web', [{ ip: '127.64.1.2' }], [{ name: 'http', port: 8080 }, { name: '', port: 9000 }])])
    .addService(service('shop', 'db', { clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'pg', port: 5432 }] }), [
      slice('db', [{ ip: '127.64.1.5', hostname: 'db-0' }, { ip: '127.64.2.6', hostname: 'db-1' }, { ip: '127.64.2.7', ready: false }], [{ name: 'pg', port: 5433 }]),
    ])
    .addService(service('shop', 'bare', { clusterIP: 'None', ports: [{ name: 'x', port: 1 }] }), [slice('bare', [{ ip: '127.64.3.3' }], [{ name: 'x', port: 7 }])])
    .addService(service('shop', 'empty', { clusterIP: 'None', ports: [{ name: 'x', port: 1 }] }))
    .addService(service('shop', 'ext', { type: 'ExternalName', externalName: 'example.org.' }));
}

function answered(resolution: Resolution) {
  if (resolution.kind !== 'answer') throw new Error('expected an answer, got a forward');
  return resolution;
}

const ask = (name: string, type = 'A', from = catalog()) => answered(resolveQuestion({ name, type }, from, domain));
const datas = (resolution: ReturnType<typeof ask>) => resolution.answers.map((answer) => ('data' in answer ? answer.data : null));

describe('names', () => {
  it('tells apart the forms of the cluster domain and the names outside it', () => {
    expect(classifyName('example.com', domain)).toEqual({ kind: 'outside' });
    expect(classifyName('cluster.local.example.com', domain)).toEqual({ kind: 'outside' });
    expect(classifyName('Cluster.Local.', domain)).toEqual({ kind: 'zone' });
    expect(classifyName('svc.cluster.local', domain)).toEqual({ kind: 'zone' });
    expect(classifyName('shop.svc.cluster.local', domain)).toEqual({ kind: 'namespace', tree: 'svc', namespace: 'shop' });
    expect(classifyName('WEB.shop.svc.cluster.local', domain)).toEqual({ kind: 'service', namespace: 'shop', service: 'web' });
    expect(classifyName('db-0.db.shop.svc.cluster.local', domain)).toEqual({ kind: 'endpoint', namespace: 'shop', service: 'db', endpoint: 'db-0' });
    expect(classifyName('_http._tcp.web.shop.svc.cluster.local', domain)).toEqual({ kind: 'port', namespace: 'shop', service: 'web', port: 'http', protocol: 'TCP' });
    expect(classifyName('127-64-1-2.shop.pod.cluster.local', domain)).toEqual({ kind: 'pod', namespace: 'shop', ip: '127.64.1.2' });
    expect(classifyName('fd00--1.shop.pod.cluster.local', domain)).toEqual({ kind: 'pod', namespace: 'shop', ip: 'fd00::1' });
    expect(classifyName('300-1-1-1.shop.pod.cluster.local', domain)).toEqual({ kind: 'invalid' });
    expect(classifyName('_http._xtp.web.shop.svc.cluster.local', domain)).toEqual({ kind: 'invalid' });
    expect(classifyName('a.b.c.d.e.svc.cluster.local', domain)).toEqual({ kind: 'invalid' });
    expect(classifyName('web.shop.nodes.cluster.local', domain)).toEqual({ kind: 'invalid' });
  });
});

describe('answers', () => {
  it('gives a ClusterIP Service its cluster IP, TTL 5 s, the asked letter case kept', () => {
    const reply = ask('Web.Shop.svc.cluster.local');
    expect(reply.rcode).toBe('NOERROR');
    expect(reply.answers).toEqual([{ type: 'A', name: 'Web.Shop.svc.cluster.local', ttl: 5, data: '127.96.0.10' }]);
  });

  it('gives a headless Service its ready endpoints, and each endpoint its own name', () => {
    expect(datas(ask('db.shop.svc.cluster.local')).sort()).toEqual(['127.64.1.5', '127.64.2.6']);
    expect(datas(ask('db-1.db.shop.svc.cluster.local'))).toEqual(['127.64.2.6']);
    expect(datas(ask('127-64-3-3.bare.shop.svc.cluster.local'))).toEqual(['127.64.3.3']);
    expect(ask('db-9.db.shop.svc.cluster.local').rcode).toBe('NXDOMAIN');
    // An endpoint name of a ClusterIP Service does not exist (only headless Services publish them).
    expect(ask('127-64-1-2.web.shop.svc.cluster.local').rcode).toBe('NXDOMAIN');
  });

  it('publishes not-ready endpoints of a Service that asks for it', () => {
    const withUnready = catalog().addService(
      service('shop', 'db', { clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ name: 'pg', port: 5432 }] }),
      [slice('db', [{ ip: '127.64.1.5' }, { ip: '127.64.2.7', ready: false }], [{ name: 'pg', port: 5433 }])],
    );
    expect(datas(ask('db.shop.svc.cluster.local', 'A', withUnready)).sort()).toEqual(['127.64.1.5', '127.64.2.7']);
  });

  it('answers an ExternalName Service with a CNAME', () => {
    expect(ask('ext.shop.svc.cluster.local').answers).toEqual([{ type: 'CNAME', name: 'ext.shop.svc.cluster.local', ttl: 5, data: 'example.org' }]);
  });

  it('gives SRV of a named port: the Service for a ClusterIP one, each ready endpoint for a headless one, with their addresses', () => {
    const web = ask('_http._tcp.web.shop.svc.cluster.local', 'SRV');
    expect(datas(web)).toEqual([{ priority: 0, weight: 100, port: 80, target: 'web.shop.svc.cluster.local' }]);
    expect(web.additionals).toEqual([{ type: 'A', name: 'web.shop.svc.cluster.local', ttl: 5, data: '127.96.0.10' }]);
    const db = ask('_pg._tcp.db.shop.svc.cluster.local', 'SRV');
    expect(datas(db)).toEqual([
      { priority: 0, weight: 50, port: 5433, target: 'db-0.db.shop.svc.cluster.local' },
      { priority: 0, weight: 50, port: 5433, target: 'db-1.db.shop.svc.cluster.local' },
    ]);
    expect(db.additionals.map((record) => record.name)).toEqual(['db-0.db.shop.svc.cluster.local', 'db-1.db.shop.svc.cluster.local']);
    expect(ask('_pg._udp.db.shop.svc.cluster.local', 'SRV').rcode).toBe('NXDOMAIN');
    expect(ask('_nope._tcp.web.shop.svc.cluster.local', 'SRV').rcode).toBe('NXDOMAIN');
    // A and SRV of the Service name itself: every port.
    expect(datas(ask('web.shop.svc.cluster.local', 'SRV')).map((srv) => (srv as { port: number }).port)).toEqual([80, 9000]);
  });

  it('answers a pod name with the address it spells', () => {
    expect(datas(ask('127-64-1-2.shop.pod.cluster.local'))).toEqual(['127.64.1.2']);
    expect(ask('127-64-1-2.shop.pod.cluster.local', 'AAAA').answers).toEqual([]);
  });

  it('says NXDOMAIN for names that do not exist and NODATA for names without the asked type, both with the SOA', () => {
    const missing = ask('nope.shop.svc.cluster.local');
    expect(missing.rcode).toBe('NXDOMAIN');
    expect(missing.authorities[0]).toMatchObject({ type: 'SOA', name: 'cluster.local', data: { mname: 'ns.dns.cluster.local', minimum: 5 } });
    expect(ask('web.nope.svc.cluster.local').rcode).toBe('NXDOMAIN');
    expect(ask('nope.svc.cluster.local').rcode).toBe('NXDOMAIN');
    const noData = ask('web.shop.svc.cluster.local', 'AAAA');
    expect([noData.rcode, noData.answers.length, noData.authorities[0]?.type]).toEqual(['NOERROR', 0, 'SOA']);
    expect(ask('web.shop.svc.cluster.local', 'TXT').rcode).toBe('NOERROR');
    expect(ask('shop.svc.cluster.local').rcode).toBe('NOERROR');
    expect(ask('empty.shop.svc.cluster.local')).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(datas(ask('cluster.local', 'SOA'))[0]).toMatchObject({ mname: 'ns.dns.cluster.local' });
  });

  it('fails (SERVFAIL) while the catalog never loaded, and forwards names outside the domain', () => {
    expect(ask('web.shop.svc.cluster.local', 'A', new FakeCatalog({ synced: false })).rcode).toBe('SERVFAIL');
    expect(resolveQuestion({ name: 'example.com', type: 'A' }, new FakeCatalog({ synced: false }), domain)).toEqual({ kind: 'forward' });
  });

  it('answers PTR for a cluster IP and a headless endpoint, and forwards other reverse names', () => {
    expect(datas(ask('10.0.96.127.in-addr.arpa', 'PTR'))).toEqual(['web.shop.svc.cluster.local']);
    expect(datas(ask('5.1.64.127.in-addr.arpa', 'PTR'))).toEqual(['db-0.db.shop.svc.cluster.local']);
    expect(datas(ask('3.3.64.127.in-addr.arpa', 'PTR'))).toEqual(['127-64-3-3.bare.shop.svc.cluster.local']);
    expect(resolveQuestion({ name: '9.9.9.9.in-addr.arpa', type: 'PTR' }, catalog(), domain)).toEqual({ kind: 'forward' });
    expect(resolveQuestion({ name: '10.0.96.127.in-addr.arpa', type: 'A' }, catalog(), domain)).toEqual({ kind: 'forward' });
    expect(ipFromReverseName(`${'0.'.repeat(30)}1.ip6.arpa`)).toBeNull();
    expect(ipFromReverseName('1.2.3.in-addr.arpa')).toBeNull();
    expect(ipFromReverseName(`1.${'0.'.repeat(29)}d.f.ip6.arpa`)).toBe('fd00::1');
  });

  it('serves another cluster domain when configured', () => {
    expect(answered(resolveQuestion({ name: 'web.shop.svc.kubus.test', type: 'A' }, catalog(), 'kubus.test.')).answers).toHaveLength(1);
    expect(resolveQuestion({ name: 'web.shop.svc.cluster.local', type: 'A' }, catalog(), 'kubus.test')).toEqual({ kind: 'forward' });
  });
});
