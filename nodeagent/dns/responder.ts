/**
 * One DNS message in, one out: decodes the query (dns-packet), answers cluster names from the
 * catalog (answer.ts) or forwards the others (forwarder.ts), and encodes the reply within the
 * size the transport allows.
 *
 * Decision: as a real server answers — FORMERR for a message that does not decode or does not
 * hold exactly one question, NOTIMP for an opcode other than QUERY, REFUSED for a class other than
 * IN inside the cluster domain, SERVFAIL when no upstream answered; a reply too large for UDP goes
 * out with the TC bit and no records, and the client asks again over TCP (RFC 1035 §4.2.1,
 * RFC 7766). EDNS0 clients may receive up to `udpPayloadBytesMax` over UDP. dns-packet does not
 * compress names, so a record costs its whole name (an A record of `web.shop.svc.cluster.local`
 * 42 bytes): about 11 such records fit plain UDP, 28 fit EDNS0; larger headless answers go over TCP.
 */
import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer, Packet } from 'dns-packet';
import type { Logger } from '../../bus/logger.js';
import { resolveQuestion, type CatalogView } from './answer.js';
import type { Forwarder, Transport } from './forwarder.js';
import { dnsLimits } from './limits.js';
import { classifyName } from './names.js';

const rcodes = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
type Rcode = keyof typeof rcodes;

export interface ResponderDeps {
  readonly catalog: CatalogView;
  readonly clusterDomain: string;
  readonly forwarder: Forwarder;
  readonly logger: Logger;
}

/** The reply to `message`, or null when nothing should be sent (not a query, too short to carry an id). */
export async function respond(message: Buffer, transport: Transport, deps: ResponderDeps): Promise<Buffer | null> {
  let query: DecodedPacket;
  try {
    query = dnsPacket.decode(message);
  } catch {
    return message.length >= 12 && (message.readUInt16BE(2) & 0x8000) === 0 ? formatError(message) : null;
  }
  if (query.type === 'response') return null;
  const clientOpt = query.additionals?.find((record): record is OptAnswer => record.type === 'OPT');
  const limit = transport === 'tcp' ? dnsLimits.tcpMessageBytesMax : udpLimit(clientOpt);
  const reply = (rcode: Rcode, body: Partial<Pick<Packet, 'answers' | 'authorities' | 'additionals'>> = {}, authoritative = false): Buffer =>
    encodeWithin(limit, replyPacket(query, rcode, body, { authoritative, edns: clientOpt !== undefined }));
  const question = query.questions?.[0];
  if ((query as { opcode?: string }).opcode !== 'QUERY') return reply('NOTIMP');
  if (question === undefined || query.questions?.length !== 1) return reply('FORMERR');
  const inCluster = classifyName(question.name, deps.clusterDomain).kind !== 'outside';
  if (inCluster && question.class !== undefined && question.class !== 'IN') return reply('REFUSED');
  const resolution = resolveQuestion(question, deps.catalog, deps.clusterDomain);
  if (resolution.kind === 'answer') {
    const chased = await chaseExternalName(question, resolution.answers, deps);
    return reply(resolution.rcode, { answers: [...resolution.answers, ...chased], authorities: [...resolution.authorities], additionals: [...resolution.additionals] }, true);
  }
  try {
    return await deps.forwarder.forward(message, transport);
  } catch (error) {
    deps.logger.debug('dns forward failed', { name: question.name, type: question.type, error: error instanceof Error ? error.message : String(error) });
    return reply('SERVFAIL');
  }
}

/**
 * An ExternalName Service answers a CNAME; stub resolvers (glibc, musl, c-ares) do not chase it
 * themselves, so the A/AAAA records of its target are asked upstream and added after it, as
 * CoreDNS' kubernetes plugin does. A target that does not resolve leaves the CNAME alone.
 */
async function chaseExternalName(question: { name: string; type: string }, answers: readonly Answer[], deps: ResponderDeps): Promise<Answer[]> {
  const cname = answers.length === 1 && answers[0]?.type === 'CNAME' ? answers[0] : undefined;
  if (cname === undefined || (question.type !== 'A' && question.type !== 'AAAA')) return [];
  const target = String(cname.data);
  if (classifyName(target, deps.clusterDomain).kind !== 'outside') return [];
  try {
    const asked = dnsPacket.encode({ type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: question.type as 'A', name: target }] });
    const reply = dnsPacket.decode(await deps.forwarder.forward(asked, 'udp'));
    return (reply.answers ?? []).filter((answer) => answer.type === 'CNAME' || answer.type === question.type);
  } catch (error) {
    deps.logger.debug('ExternalName target did not resolve', { target, error: error instanceof Error ? error.message : String(error) });
    return [];
  }
}

function udpLimit(opt: OptAnswer | undefined): number {
  if (opt === undefined) return dnsLimits.udpPayloadBytesPlain;
  return Math.min(dnsLimits.udpPayloadBytesMax, Math.max(dnsLimits.udpPayloadBytesPlain, opt.udpPayloadSize));
}

function replyPacket(query: DecodedPacket, rcode: Rcode, body: Partial<Pick<Packet, 'answers' | 'authorities' | 'additionals'>>, options: { authoritative: boolean; edns: boolean }): Packet {
  const flags = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED
    | dnsPacket.RECURSION_AVAILABLE
    | (options.authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0)
    | rcodes[rcode];
  const opt: Answer[] = options.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: dnsLimits.udpPayloadBytesMax, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [];
  return {
    type: 'response', id: query.id ?? 0, flags,
    questions: query.questions ?? [],
    answers: body.answers ?? [],
    authorities: body.authorities ?? [],
    additionals: [...(body.additionals ?? []), ...opt],
  };
}

/** The encoded reply; past `limit` the same header and question with TC set and no records (the client retries over TCP). */
function encodeWithin(limit: number, packet: Packet): Buffer {
  const encoded = dnsPacket.encode(packet);
  if (encoded.length <= limit) return encoded;
  const opt = (packet.additionals ?? []).filter((record) => record.type === 'OPT');
  return dnsPacket.encode({ ...packet, flags: (packet.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: opt });
}

/** FORMERR for bytes that did not decode: the header only, its id kept so the client matches it. */
function formatError(message: Buffer): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(message.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8000 | (message.readUInt16BE(2) & dnsPacket.RECURSION_DESIRED) | dnsPacket.RECURSION_AVAILABLE | rcodes.FORMERR, 2);
  return header;
}
