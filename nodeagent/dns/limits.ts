/**
 * Every bound of the node's DNS server, with its reason (STYLE rule 5), checked against each other
 * by `checkDnsLimits` when a server starts.
 */
import { assert } from '../../bus/assert.js';

export const dnsLimits = {
  /** TTL of every cluster answer (and the SOA minimum, so NXDOMAIN is cached as long): CoreDNS' kubernetes plugin default, 5 s. */
  ttlSeconds: 5,
  /** A UDP answer without EDNS0 fits in 512 bytes (RFC 1035 §4.2.1); larger ones are sent truncated and the client asks again over TCP. */
  udpPayloadBytesPlain: 512,
  /**
   * The largest UDP answer we send to an EDNS0 client, whatever larger size it offers: 1232 bytes
   * avoid IP fragmentation on any path (DNS flag day 2020); it is also what we announce.
   */
  udpPayloadBytesMax: 1232,
  /** A DNS message over TCP carries a 2-byte length: nothing larger can exist. */
  tcpMessageBytesMax: 65_535,
  /** Open TCP connections at once; past it new ones are closed at once (a client retries). Pods of one node, a few each. */
  tcpConnectionsMax: 256,
  /** A TCP connection with no query for this long is closed (RFC 7766 §6.2.3 suggests seconds, not minutes). */
  tcpIdleMs: 10_000,
  /** Queries answered per TCP connection before it is closed: one client cannot hold a connection's work forever. */
  tcpQueriesPerConnectionMax: 1_000,
  /**
   * Forwards to the host's resolvers in flight at once, across UDP and TCP; a query past it is
   * answered SERVFAIL at once rather than queued (each forward holds a socket; a stalled upstream
   * must not exhaust the agent's file descriptors). CoreDNS' forward plugin bounds the same way.
   */
  forwardInFlightMax: 256,
  /** One upstream gets this long to answer before the next is tried: glibc's resolver waits 5 s per server; we keep under the client's own retry. */
  forwardUpstreamTimeoutMs: 2_000,
  /** The host's resolv.conf is read again at most this often (a DHCP or VPN change reaches forwards within it; reading it per query would cost a syscall each). */
  resolvConfRereadMs: 30_000,
  /** Upstreams read from resolv.conf: glibc uses at most 3 (MAXNS); more are ignored as it ignores them. */
  upstreamsMax: 3,
  /** Records of one kind in one answer (headless endpoints, SRV targets): a Service of thousands of endpoints still answers within a TCP message. */
  recordsPerAnswerMax: 1_000,
  /** A name longer than this is no valid DNS name (RFC 1035 §2.3.4). */
  nameBytesMax: 255,
} as const;

export function checkDnsLimits(): void {
  assert(dnsLimits.udpPayloadBytesPlain <= dnsLimits.udpPayloadBytesMax, 'the plain UDP size cannot exceed the EDNS0 size');
  assert(dnsLimits.udpPayloadBytesMax <= dnsLimits.tcpMessageBytesMax, 'a UDP answer must fit a TCP message');
  assert(dnsLimits.forwardUpstreamTimeoutMs * dnsLimits.upstreamsMax < 30_000, 'a forward that tries every upstream must end before a client gives up for good');
  assert(dnsLimits.ttlSeconds > 0, 'answers need a positive TTL');
}
