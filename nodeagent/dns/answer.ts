/**
 * The answer to one question about the cluster domain, a pure function of the question, the
 * catalog's current state and the domain (names.ts says what a name means).
 *
 * Decision: answers follow CoreDNS' kubernetes plugin, which pods' resolvers and tools expect:
 * TTL 5 s; NXDOMAIN for a name that does not exist and NODATA (NOERROR, no answer) for a name that
 * exists without a record of the asked type, both with the zone's SOA in the authority section so
 * resolvers cache the negative answer (RFC 2308); SERVFAIL while the catalog never loaded (the node
 * does not know yet, which is not "does not exist"). A headless Service answers with its ready
 * endpoints (all of them with `publishNotReadyAddresses`); an ExternalName Service with a CNAME
 * that the client chases itself. Reverse names of cluster addresses get PTR records (reverse.ts);
 * other reverse names are forwarded.
 */
import type { Answer, RecordType } from 'dns-packet';
import type { Service } from 'kubernetes-types/core/v1.js';
import { isHeadlessService } from '../../actors/objects/index.js';
import { clusterIpsOf, type CatalogEntry, type ServiceCatalog, type ServiceKey } from '../services/index.js';
import { dnsLimits } from './limits.js';
import { canonicalName, classifyName, dashedIp, isIPv4, isIPv6, type ClusterName } from './names.js';
import { reverseAnswer } from './reverse.js';

export type ResponseCode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL';

export type Resolution =
  | { readonly kind: 'forward' }
  | {
    readonly kind: 'answer';
    readonly rcode: ResponseCode;
    readonly answers: readonly Answer[];
    readonly authorities: readonly Answer[];
    readonly additionals: readonly Answer[];
  };

export type CatalogView = Pick<ServiceCatalog, 'synced' | 'get' | 'entries' | 'endpointsFor'>;

export interface Question {
  /** As asked (answers repeat it with the asker's letter case). */
  readonly name: string;
  readonly type: RecordType | string;
}

type Family = 'A' | 'AAAA';

export function resolveQuestion(question: Question, catalog: CatalogView, clusterDomain: string): Resolution {
  const name = classifyName(question.name, clusterDomain);
  if (name.kind === 'outside') {
    const reverse = reverseAnswer(question, catalog, clusterDomain);
    return reverse === null ? { kind: 'forward' } : { kind: 'answer', rcode: 'NOERROR', answers: reverse, authorities: [], additionals: [] };
  }
  const zone = new Zone(canonicalName(clusterDomain), question);
  if (!catalog.synced()) return zone.failure();
  return answerInZone(name, catalog, zone);
}

function answerInZone(name: Exclude<ClusterName, { kind: 'outside' }>, catalog: CatalogView, zone: Zone): Resolution {
  switch (name.kind) {
    case 'invalid': return zone.nxdomain();
    case 'zone': return zone.apex();
    case 'namespace': {
      const exists = name.tree === 'pod' || [...catalog.entries()].some((entry) => entry.service.metadata?.namespace === name.namespace);
      return exists ? zone.records([]) : zone.nxdomain();
    }
    case 'pod': return zone.records(zone.addresses([name.ip]));
    case 'service': {
      const entry = catalog.get({ namespace: name.namespace, name: name.service });
      return entry === undefined ? zone.nxdomain() : answerService(entry, catalog, zone);
    }
    case 'endpoint': {
      const entry = catalog.get({ namespace: name.namespace, name: name.service });
      if (entry === undefined || !isHeadless(entry.service)) return zone.nxdomain();
      const addresses = endpointAddresses(entry).filter((endpoint) => endpointLabel(endpoint) === name.endpoint).map((endpoint) => endpoint.address);
      return addresses.length === 0 ? zone.nxdomain() : zone.records(zone.addresses(addresses));
    }
    case 'port': return answerPort(name, catalog, zone);
  }
}

function answerService(entry: CatalogEntry, catalog: CatalogView, zone: Zone): Resolution {
  const service = entry.service;
  if (service.spec?.type === 'ExternalName') {
    const target = canonicalName(service.spec.externalName ?? '');
    return target === '' ? zone.records([]) : zone.records([{ type: 'CNAME', name: zone.question.name, ttl: dnsLimits.ttlSeconds, data: target }]);
  }
  const key = keyOf(service);
  if (zone.question.type === 'SRV') {
    const ports = service.spec?.ports ?? [];
    const targets = ports.flatMap((port) => srvTargets(entry, catalog, zone, { key, portName: port.name ?? '', protocol: protocolOf(port.protocol), servicePort: port.port }));
    return zone.records(targets.map((target) => target.srv), zone.glue(targets));
  }
  const addresses = isHeadless(service) ? endpointAddresses(entry).map((endpoint) => endpoint.address) : clusterIps(service);
  return zone.records(zone.addresses(addresses));
}

function answerPort(name: Extract<ClusterName, { kind: 'port' }>, catalog: CatalogView, zone: Zone): Resolution {
  const entry = catalog.get({ namespace: name.namespace, name: name.service });
  const port = entry?.service.spec?.ports?.find((candidate) => (candidate.name ?? '').toLowerCase() === name.port && protocolOf(candidate.protocol) === name.protocol);
  if (entry === undefined || port === undefined || entry.service.spec?.type === 'ExternalName') return zone.nxdomain();
  const targets = srvTargets(entry, catalog, zone, { key: keyOf(entry.service), portName: port.name ?? '', protocol: name.protocol, servicePort: port.port });
  if (zone.question.type === 'SRV') return zone.records(targets.map((target) => target.srv), zone.glue(targets));
  return zone.records(zone.addresses([...new Set(targets.flatMap((target) => target.ips))]));
}

interface SrvTarget {
  readonly srv: Answer;
  readonly target: string;
  /** The target's addresses: the additional section of an SRV answer, the answer to A/AAAA on a port name. */
  readonly ips: readonly string[];
}

function srvTargets(entry: CatalogEntry, catalog: CatalogView, zone: Zone, port: { key: ServiceKey; portName: string; protocol: 'TCP' | 'UDP' | 'SCTP'; servicePort: number }): SrvTarget[] {
  const serviceName = `${port.key.name}.${port.key.namespace}.svc.${zone.domain}`;
  if (!isHeadless(entry.service)) {
    const ips = clusterIps(entry.service);
    return ips.length === 0 ? [] : [{ srv: zone.srv(serviceName, port.servicePort, 1), target: serviceName, ips }];
  }
  const publishNotReady = entry.service.spec?.publishNotReadyAddresses === true;
  const endpoints = catalog.endpointsFor(port.key, port.portName, port.protocol)
    .filter((endpoint) => endpoint.ready || publishNotReady)
    .slice(0, dnsLimits.recordsPerAnswerMax);
  return endpoints.map((endpoint) => {
    const target = `${endpointLabel(endpoint)}.${serviceName}`;
    return { srv: zone.srv(target, endpoint.port, endpoints.length), target, ips: [endpoint.address] };
  });
}

interface EndpointAddress {
  readonly address: string;
  readonly hostname?: string;
}

/** A headless Service's endpoints as DNS publishes them: ready ones (or all with publishNotReadyAddresses), first address each, no duplicates. */
function endpointAddresses(entry: CatalogEntry): EndpointAddress[] {
  const publishNotReady = entry.service.spec?.publishNotReadyAddresses === true;
  const seen = new Map<string, EndpointAddress>();
  for (const slice of entry.slices) {
    if (slice.addressType === 'FQDN') continue;
    for (const endpoint of slice.endpoints ?? []) {
      const ready = endpoint.conditions?.ready !== false;
      const address = endpoint.addresses[0];
      if ((!ready && !publishNotReady) || address === undefined || seen.has(address)) continue;
      seen.set(address, { address, ...(endpoint.hostname !== undefined ? { hostname: endpoint.hostname } : {}) });
      if (seen.size >= dnsLimits.recordsPerAnswerMax) return [...seen.values()];
    }
  }
  return [...seen.values()];
}

/** An endpoint's first label: its hostname, else its address dashed (CoreDNS' endpointHostname). */
function endpointLabel(endpoint: { readonly address: string; readonly hostname?: string }): string {
  return (endpoint.hostname ?? dashedIp(endpoint.address)).toLowerCase();
}

const isHeadless = isHeadlessService;
const clusterIps = clusterIpsOf;

function keyOf(service: Service): ServiceKey {
  return { namespace: service.metadata?.namespace ?? 'default', name: service.metadata?.name ?? '' };
}

function protocolOf(protocol: string | undefined): 'TCP' | 'UDP' | 'SCTP' {
  return protocol === 'UDP' || protocol === 'SCTP' ? protocol : 'TCP';
}

/** Builds the records of one answer in the zone: the asked name, the TTL, the SOA. */
class Zone {
  constructor(readonly domain: string, readonly question: Question) {}

  soa(): Answer {
    return {
      type: 'SOA', name: this.domain, ttl: dnsLimits.ttlSeconds,
      data: { mname: `ns.dns.${this.domain}`, rname: `hostmaster.${this.domain}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: dnsLimits.ttlSeconds },
    };
  }

  nxdomain(): Resolution {
    return { kind: 'answer', rcode: 'NXDOMAIN', answers: [], authorities: [this.soa()], additionals: [] };
  }

  failure(): Resolution {
    return { kind: 'answer', rcode: 'SERVFAIL', answers: [], authorities: [], additionals: [] };
  }

  /** NOERROR with these records, or NODATA (the SOA in authority) when there are none. */
  records(answers: readonly Answer[], additionals: readonly Answer[] = []): Resolution {
    return answers.length === 0
      ? { kind: 'answer', rcode: 'NOERROR', answers: [], authorities: [this.soa()], additionals: [] }
      : { kind: 'answer', rcode: 'NOERROR', answers, authorities: [], additionals };
  }

  apex(): Resolution {
    if (this.question.type === 'SOA') return this.records([{ ...this.soa(), name: this.question.name }]);
    if (this.question.type === 'NS') return this.records([{ type: 'NS', name: this.question.name, ttl: dnsLimits.ttlSeconds, data: `ns.dns.${this.domain}` }]);
    return this.records([]);
  }

  /** A or AAAA records of the asked name, as the question's type wants (ANY: both). */
  addresses(ips: readonly string[]): Answer[] {
    const wanted: readonly Family[] = this.question.type === 'ANY' ? ['A', 'AAAA'] : this.question.type === 'A' || this.question.type === 'AAAA' ? [this.question.type] : [];
    return addressRecords(this.question.name, ips, wanted);
  }

  /** The SRV targets' addresses (RFC 2782: resolvers use them instead of asking again), one record per target and address. */
  glue(targets: readonly SrvTarget[]): Answer[] {
    const byTarget = new Map<string, Set<string>>();
    for (const target of targets) for (const ip of target.ips) byTarget.set(target.target, (byTarget.get(target.target) ?? new Set()).add(ip));
    return [...byTarget].flatMap(([name, ips]) => addressRecords(name, [...ips], ['A', 'AAAA']));
  }

  /** SRV records share the weight of one priority (CoreDNS: 100 split evenly). */
  srv(target: string, port: number, count: number): Answer {
    return { type: 'SRV', name: this.question.name, ttl: dnsLimits.ttlSeconds, data: { priority: 0, weight: Math.max(1, Math.floor(100 / count)), port, target } };
  }
}

function addressRecords(name: string, ips: readonly string[], wanted: readonly Family[]): Answer[] {
  const records: Answer[] = [];
  for (const ip of ips.slice(0, dnsLimits.recordsPerAnswerMax)) {
    const family: Family | null = isIPv4(ip) ? 'A' : isIPv6(ip) ? 'AAAA' : null;
    if (family !== null && wanted.includes(family)) records.push({ type: family, name, ttl: dnsLimits.ttlSeconds, data: ip });
  }
  return records;
}
