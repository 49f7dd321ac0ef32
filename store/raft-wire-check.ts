/**
 * Checks of what arrives on the Raft subjects, before the member sees it: a batch's messages and
 * a snapshot chunk, field by field (types, sizes, member ids, indexes, entries). Anything that
 * fails is dropped by the transport with a log line, never handed to the core, never thrown.
 *
 * Decision: the checks return a reason string instead of throwing, so the transport's handler has
 * no exception path at all (one malformed chunk with `chunk: null` used to kill the receiver), and
 * the log line says which field was wrong. A valid message is passed on as it arrived; a field the
 * checks do not know is left alone, so adding a field to a message needs no change here, while
 * adding a message type does (`messageChecks`, which the compiler holds to the message union).
 *
 * Decision: entries must be what a correct leader sends: indexes consecutive after `prevIndex`,
 * terms never decreasing, none above the message's term and none below `prevTerm`. The core
 * would otherwise write a log that breaks log matching.
 */
import { isValidToken } from '../bus/subjects.js';
import type { Message, MessageType, SnapshotMeta } from './raft/types.js';

export const raftWireLimits = {
  /** Entries in one append message: a batch is cut at 768 KiB, and an entry costs at least 24 bytes of overhead. */
  entriesPerMessageMax: 32_768,
  /** Messages in one batch: the same byte bound divided by the smallest message (~64 bytes). */
  messagesPerBatchMax: 16_384,
  /** ReadIndex contexts are `<member>:<counter>`-like strings; far shorter than this. */
  contextLengthMax: 256,
  /** A transfer id is `<member>-<index>-<sequence>`. */
  transferIdLengthMax: 256,
  /** Voters plus learners named in a snapshot's configuration: far more than any kubus cluster. */
  confMembersMax: 256,
  /**
   * Chunks of one snapshot: 16,384 chunks of 256 KiB is 4 GiB, beyond LMDB's practical state size
   * here. The receiver allocates its assembly table from this count, so it must be bounded.
   */
  snapshotChunkCountMax: 16_384,
} as const;

type Fields = Record<string, unknown>;
type Check = (message: Fields) => string | null;

const isIndex = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isBoolean = (value: unknown): value is boolean => typeof value === 'boolean';
const isContext = (value: unknown): value is string => typeof value === 'string' && value.length <= raftWireLimits.contextLengthMax;
export const isMemberId = (value: unknown): value is string => typeof value === 'string' && isValidToken(value);

function fields(message: Fields, checks: Readonly<Record<string, (value: unknown) => boolean>>): string | null {
  for (const [name, check] of Object.entries(checks)) {
    if (!check(message[name])) return `field ${name} is invalid`;
  }
  return null;
}

/** Typed by the message union: a message type added to raft/types.ts does not compile until it has its check here. */
const messageChecks: Readonly<Record<Exclude<MessageType, 'snapshot'>, Check>> = {
  append: (m) => fields(m, { prevIndex: isIndex, prevTerm: isIndex, commit: isIndex }) ?? checkEntries(m),
  appendResponse: (m) => fields(m, { reject: isBoolean, index: isIndex, rejectHint: isIndex }),
  vote: (m) => fields(m, { lastIndex: isIndex, lastTerm: isIndex, force: isBoolean }),
  preVote: (m) => fields(m, { lastIndex: isIndex, lastTerm: isIndex, force: isBoolean }),
  voteResponse: (m) => fields(m, { reject: isBoolean }),
  preVoteResponse: (m) => fields(m, { reject: isBoolean }),
  heartbeat: (m) => fields(m, { commit: isIndex, context: isContext }),
  heartbeatResponse: (m) => fields(m, { context: isContext }),
  timeoutNow: () => null,
  readIndex: (m) => fields(m, { context: isContext }),
  readIndexResponse: (m) => fields(m, { context: isContext, index: isIndex, reject: isBoolean }),
  // Snapshots travel only as chunks (checkSnapshotChunk): one inside a batch is forged.
};

function checkEntries(message: Fields): string | null {
  const entries = message['entries'];
  if (!Array.isArray(entries) || entries.length > raftWireLimits.entriesPerMessageMax) return 'field entries is not an array of bounded length';
  const prevIndex = message['prevIndex'] as number;
  let previousTerm = message['prevTerm'] as number;
  for (const [position, entry] of entries.entries()) {
    if (typeof entry !== 'object' || entry === null) return `entry ${position} is not an object`;
    const { term, index, type, data } = entry as Fields;
    if (index !== prevIndex + 1 + position) return `entry ${position} has index ${String(index)}, not ${prevIndex + 1 + position}`;
    if (!isIndex(term) || term < previousTerm || term > (message['term'] as number)) return `entry ${position} has an out-of-order term`;
    if (type !== 'normal' && type !== 'confChange') return `entry ${position} has an unknown type`;
    if (!(data instanceof Uint8Array)) return `entry ${position} has no binary data`;
    previousTerm = term;
  }
  return null;
}

/**
 * Why a message of a batch from `sender` to `self` must be dropped, or null when it is well-formed.
 * The sender is the subject's, which NATS permissions tie to the publishing member.
 */
export function checkRaftMessage(value: unknown, sender: string, self: string): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const message = value as Fields;
  const type = message['type'];
  const check = typeof type === 'string' && Object.hasOwn(messageChecks, type) ? messageChecks[type as keyof typeof messageChecks] : undefined;
  if (check === undefined) return `unknown type ${JSON.stringify(String(type)).slice(0, 40)}`;
  if (message['from'] !== sender) return 'from is not the subject\'s sender';
  if (message['to'] !== self) return 'to is not this member';
  if (!isIndex(message['term'])) return 'field term is invalid';
  return check(message);
}

/** A batch as published: `{ from, messages }`; returns the messages or why the whole batch is dropped. */
export function checkRaftBatch(value: unknown, sender: string, self: string): { messages: Message[] } | { reason: string } {
  if (typeof value !== 'object' || value === null) return { reason: 'not an object' };
  const { from, messages } = value as Fields;
  if (from !== sender) return { reason: 'from is not the subject\'s sender' };
  if (!Array.isArray(messages) || messages.length > raftWireLimits.messagesPerBatchMax) return { reason: 'messages is not an array of bounded length' };
  for (const [position, message] of messages.entries()) {
    const reason = checkRaftMessage(message, sender, self);
    // One bad message spoils the batch: a correct member never sends one, so the rest is suspect too.
    if (reason !== null) return { reason: `message ${position}: ${reason}` };
  }
  return { messages: messages as Message[] };
}

export interface SnapshotChunk {
  readonly from: string;
  readonly to: string;
  readonly term: number;
  readonly transferId: string;
  readonly meta: SnapshotMeta;
  readonly chunkIndex: number;
  readonly chunkCount: number;
  readonly chunk: Uint8Array;
}

function checkConf(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { voters, learners } = value as Fields;
  if (!Array.isArray(voters) || !Array.isArray(learners)) return false;
  if (voters.length + learners.length > raftWireLimits.confMembersMax) return false;
  return voters.every(isMemberId) && learners.every(isMemberId);
}

function checkMeta(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const { index, term, conf } = value as Fields;
  return isIndex(index) && isIndex(term) && checkConf(conf);
}

/** A snapshot chunk from `sender` to `self`: the chunk, or why it is dropped. */
export function checkSnapshotChunk(value: unknown, sender: string, self: string, chunkBytesMax: number): { chunk: SnapshotChunk } | { reason: string } {
  if (typeof value !== 'object' || value === null) return { reason: 'not an object' };
  const c = value as Fields;
  if (c['from'] !== sender) return { reason: 'from is not the subject\'s sender' };
  if (c['to'] !== self) return { reason: 'to is not this member' };
  const reason = fields(c, {
    term: isIndex,
    transferId: (v) => typeof v === 'string' && v.length > 0 && v.length <= raftWireLimits.transferIdLengthMax,
    meta: checkMeta,
    chunkCount: (v) => isIndex(v) && v >= 1 && v <= raftWireLimits.snapshotChunkCountMax,
    chunk: (v) => v instanceof Uint8Array && v.length <= chunkBytesMax,
  });
  if (reason !== null) return { reason };
  if (!isIndex(c['chunkIndex']) || c['chunkIndex'] >= (c['chunkCount'] as number)) return { reason: 'field chunkIndex is invalid' };
  return { chunk: c as unknown as SnapshotChunk };
}
