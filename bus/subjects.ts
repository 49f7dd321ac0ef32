/**
 * The one table of subject names. Every subject kubus publishes or listens on is built here, under
 * `kubus.<cluster>.`, so NATS permissions, the simulated network's rules and the design document
 * (DESIGN.md, "Subjects") describe the same strings.
 *
 * Decision: every variable part is one validated token. A member id such as `s1.x` or `*` would
 * silently change what a subject matches (and what a NATS permission allows), so names that are
 * not plain tokens are refused with InvalidSubjectTokenError before anything is sent.
 */
import { KubusError, type ErrorFields } from './errors.js';

export class InvalidSubjectTokenError extends KubusError {
  override readonly name = 'InvalidSubjectTokenError';
  readonly code = 'invalidSubjectToken';
  constructor(readonly role: string, readonly token: string) {
    super(`${role} ${JSON.stringify(token)} cannot be a subject token: it must be non-empty, without dots, whitespace, '*' or '>'`);
  }
  override fields(): ErrorFields {
    return { role: this.role, token: this.token };
  }
}

/** Longest token accepted: keeps subjects well under NATS's limits and logs readable. */
const tokenLengthMax = 128;
// Printable ASCII without space, '.', '*' and '>': what a NATS token may hold and still be literal.
const tokenPattern = /^[\x21-\x29\x2b-\x2d\x2f-\x3d\x3f-\x7e]+$/;

export function isValidToken(token: string): boolean {
  return token.length > 0 && token.length <= tokenLengthMax && tokenPattern.test(token);
}

/** Returns `token` or throws InvalidSubjectTokenError naming what it was meant to be. */
export function checkToken(token: string, role: string): string {
  if (typeof token !== 'string' || !isValidToken(token)) throw new InvalidSubjectTokenError(role, String(token));
  return token;
}

/**
 * Whether `subject` is a well-formed subject: non-empty tokens without whitespace; with
 * `wildcards`, `*` as a whole token anywhere and `>` as the whole last token.
 */
export function isValidSubject(subject: string, options: { wildcards: boolean }): boolean {
  const tokens = subject.split('.');
  return tokens.every((token, index) => {
    if (options.wildcards && token === '*') return true;
    if (options.wildcards && token === '>' && index === tokens.length - 1) return true;
    return isValidToken(token);
  });
}

/** NATS matching: `*` matches exactly one token, a final `>` one or more. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const patternTokens = pattern.split('.');
  const subjectTokens = subject.split('.');
  for (let i = 0; i < patternTokens.length; i++) {
    const token = patternTokens[i];
    if (token === '>' && i === patternTokens.length - 1) return subjectTokens.length > i;
    if (i >= subjectTokens.length) return false;
    if (token !== '*' && token !== subjectTokens[i]) return false;
  }
  return patternTokens.length === subjectTokens.length;
}

export interface Subjects {
  /** Everything of this cluster: `kubus.<cluster>.>`. */
  readonly all: string;
  /** Raft message batches from `from` to `to`. */
  raft(from: string, to: string): string;
  /** Every batch addressed to `to`, whoever sent it (the sender is token 3). */
  raftInbound(to: string): string;
  /** Snapshot chunks (requests, acknowledged) from `from` to `to`. */
  raftSnapshot(from: string, to: string): string;
  raftSnapshotInbound(to: string): string;
  /** Store requests answered by one member. */
  store(member: string): string;
  /** The Kubernetes API over NATS, served by a queue group of API servers. */
  api(): string;
  /**
   * Control of the API watch streams one member's NATS front serves (renew, cancel): a watch is
   * opened through the `api` queue group, so its renewals must reach the member that took it.
   */
  apiStream(member: string): string;
  /** Where one client receives what it asked to be sent to it (watch events): `inbox.<owner>.<id>`. */
  inbox(owner: string, id: string): string;
  /** Every inbox of one owner, for its single subscription. */
  inboxAll(owner: string): string;
  /** An agent's assignment stream (pods bound to its node). */
  nodeAssign(node: string): string;
  /** Logs, exec and port-forward requests to an agent. */
  nodeRpc(node: string): string;
  /** Everything an agent may subscribe to (its NATS permission). */
  nodeAll(node: string): string;
  /**
   * An agent's stream endpoint (bus/stream) for exec, attach and port-forward: members open streams
   * with a request here and send frames to `<nodeStream>.<id>`; only members may publish there.
   */
  nodeStream(node: string): string;
  /** A member's stream endpoint: agents send the frames of streams a member opened to `<memberStream>.<id>`. */
  memberStream(member: string): string;
  /** Where one agent publishes its metrics report every interval (nodeagent/metrics/protocol.ts). */
  nodeMetrics(node: string): string;
  /** Every agent's metrics reports (members subscribe). */
  nodeMetricsAll: string;
}

export function subjects(cluster: string): Subjects {
  const prefix = `kubus.${checkToken(cluster, 'cluster name')}`;
  return {
    all: `${prefix}.>`,
    raft: (from, to) => `${prefix}.raft.${checkToken(from, 'raft sender')}.to.${checkToken(to, 'raft receiver')}`,
    raftInbound: (to) => `${prefix}.raft.*.to.${checkToken(to, 'raft receiver')}`,
    raftSnapshot: (from, to) => `${prefix}.raft.${checkToken(from, 'raft sender')}.to.${checkToken(to, 'raft receiver')}.snap`,
    raftSnapshotInbound: (to) => `${prefix}.raft.*.to.${checkToken(to, 'raft receiver')}.snap`,
    store: (member) => `${prefix}.store.${checkToken(member, 'store member')}`,
    api: () => `${prefix}.api`,
    apiStream: (member) => `${prefix}.api.stream.${checkToken(member, 'API member')}`,
    inbox: (owner, id) => `${prefix}.inbox.${checkToken(owner, 'inbox owner')}.${checkToken(id, 'inbox id')}`,
    inboxAll: (owner) => `${prefix}.inbox.${checkToken(owner, 'inbox owner')}.>`,
    nodeAssign: (node) => `${prefix}.node.${checkToken(node, 'node name')}.assign`,
    nodeRpc: (node) => `${prefix}.node.${checkToken(node, 'node name')}.rpc`,
    nodeAll: (node) => `${prefix}.node.${checkToken(node, 'node name')}.>`,
    nodeStream: (node) => `${prefix}.node.${checkToken(node, 'node name')}.rpc.stream`,
    memberStream: (member) => `${prefix}.member.${checkToken(member, 'member id')}.stream`,
    nodeMetrics: (node) => `${prefix}.metrics.node.${checkToken(node, 'node name')}`,
    nodeMetricsAll: `${prefix}.metrics.node.*`,
  };
}
