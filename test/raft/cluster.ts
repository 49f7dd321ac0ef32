/**
 * An in-memory cluster for the Raft core's tests: each member is a RaftNode plus the storage and
 * state machine a driver would give it (persisted hard state, log and snapshot; the list of
 * applied entries as the "application"). Messages wait in one queue until a test delivers them;
 * partitions decide which of them are dropped. Deterministic: all randomness comes from seeds.
 */
import { Prng } from '../../bus/prng.js';
import { decodeConfChange, RaftNode } from '../../store/raft/index.js';
import type { ConfState, Entry, HardState, Message, RaftConfig, Ready, Snapshot } from '../../store/raft/index.js';

export type NodeOptions = Omit<RaftConfig, 'id' | 'random'>;

export const defaultNodeOptions: NodeOptions = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: false,
  checkQuorum: false,
  inflightAppendsMax: 8,
  appendBytesMax: 1024,
  uncommittedBytesMax: 64 * 1024,
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function text(data: Uint8Array): string {
  return decoder.decode(data);
}

export function bytes(value: string): Uint8Array {
  return encoder.encode(value);
}

/** What a member has made durable, as a driver's log store would. */
interface Storage {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
  applied: number;
  readonly initialConf: ConfState;
}

export class SimNode {
  node: RaftNode;
  readonly storage: Storage;
  /** The application: data of every applied normal entry, in order (snapshots carry it). */
  appliedData: string[] = [];
  appliedIndex = 0;
  /** Configuration after each applied index that changed it, for snapshots at older indices. */
  private confHistory: { index: number; conf: ConfState }[] = [];

  constructor(readonly id: string, conf: ConfState, private readonly options: NodeOptions, private readonly seed: number) {
    this.storage = { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [], applied: 0, initialConf: conf };
    this.confHistory.push({ index: 0, conf });
    this.node = this.boot();
  }

  private boot(): RaftNode {
    const s = this.storage;
    return new RaftNode(
      { id: this.id, ...this.options, random: new Prng(this.seed) },
      { hardState: s.hardState, snapshot: s.snapshot, initialConf: s.initialConf, entries: [...s.entries], applied: s.applied },
    );
  }

  /** Crash and restart: everything not persisted is lost; the application restarts from storage. */
  restart(): void {
    this.node = this.boot();
  }

  /** Performs one Ready as the driver does: persist, (caller sends), apply, advance. */
  handleReady(): Ready {
    const ready = this.node.ready();
    const s = this.storage;
    if (ready.hardState !== null) s.hardState = ready.hardState;
    if (ready.snapshot !== null) {
      s.snapshot = ready.snapshot;
      s.entries = [];
    }
    const first = ready.entries[0];
    if (first !== undefined) {
      s.entries = s.entries.filter((entry) => entry.index < first.index);
      s.entries.push(...ready.entries);
    }
    if (ready.snapshot !== null) {
      this.appliedData = JSON.parse(text(ready.snapshot.data)) as string[];
      this.appliedIndex = ready.snapshot.meta.index;
      this.confHistory = [{ index: this.appliedIndex, conf: ready.snapshot.meta.conf }];
    }
    for (const entry of ready.committedEntries) {
      if (entry.index !== this.appliedIndex + 1) throw new Error(`${this.id} applies ${entry.index} after ${this.appliedIndex}`);
      if (entry.type === 'normal' && entry.data.length > 0) this.appliedData.push(text(entry.data));
      this.appliedIndex = entry.index;
    }
    s.applied = this.appliedIndex;
    this.node.advance();
    const confChanged = ready.committedEntries.some((entry) => entry.type === 'confChange');
    if (confChanged) this.confHistory.push({ index: this.appliedIndex, conf: this.node.status().conf });
    return ready;
  }

  /** The application snapshots at `index` (<= applied) and the core compacts its log. */
  compact(index: number): Snapshot {
    const entry = this.storage.entries.find((e) => e.index === index);
    const term = entry?.term ?? this.storage.snapshot?.meta.term ?? 0;
    const conf = [...this.confHistory].reverse().find((h) => h.index <= index)?.conf ?? this.storage.initialConf;
    const dataCount = this.countDataUpTo(index);
    const snapshot: Snapshot = { meta: { index, term, conf }, data: bytes(JSON.stringify(this.appliedData.slice(0, dataCount))) };
    this.node.compact(snapshot);
    this.storage.snapshot = snapshot;
    this.storage.entries = this.storage.entries.filter((e) => e.index > index);
    return snapshot;
  }

  private countDataUpTo(index: number): number {
    const snapshotIndex = this.storage.snapshot?.meta.index ?? 0;
    const base = this.storage.snapshot === null ? 0 : (JSON.parse(text(this.storage.snapshot.data)) as string[]).length;
    const later = this.storage.entries.filter((e) => e.index > snapshotIndex && e.index <= index && e.type === 'normal' && e.data.length > 0).length;
    return base + later;
  }
}

export function describeEntry(entry: Entry): string {
  if (entry.type === 'confChange') {
    const change = decodeConfChange(entry.data);
    return `${entry.term}/${entry.index}:${change.type}(${change.member})`;
  }
  return `${entry.term}/${entry.index}:${JSON.stringify(text(entry.data))}`;
}

export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'append':
      return `${head} prev=${m.prevTerm}/${m.prevIndex} commit=${m.commit} [${m.entries.map(describeEntry).join(' ')}]`;
    case 'appendResponse':
      return m.reject ? `${head} reject index=${m.index} hint=${m.rejectHint}` : `${head} index=${m.index}`;
    case 'vote':
    case 'preVote':
      return `${head} last=${m.lastTerm}/${m.lastIndex}${m.force ? ' force' : ''}`;
    case 'voteResponse':
    case 'preVoteResponse':
      return `${head} ${m.reject ? 'rejected' : 'granted'}`;
    case 'heartbeat':
      return `${head} commit=${m.commit}${m.context === '' ? '' : ` ctx=${m.context}`}`;
    case 'heartbeatResponse':
      return `${head}${m.context === '' ? '' : ` ctx=${m.context}`}`;
    case 'snapshot':
      return `${head} index=${m.snapshot.meta.index} term=${m.snapshot.meta.term} ${describeConf(m.snapshot.meta.conf)}`;
    case 'timeoutNow':
      return head;
    case 'readIndex':
      return `${head} ctx=${m.context}`;
    case 'readIndexResponse':
      return `${head} ctx=${m.context} index=${m.index}${m.reject ? ' reject' : ''}`;
  }
}

export function describeConf(conf: ConfState): string {
  return `voters=(${conf.voters.join(',')}) learners=(${conf.learners.join(',')})`;
}

export function describeReady(id: string, ready: Ready): string[] {
  const lines = [`${id} ready:`];
  if (ready.softState !== null) lines.push(`  soft: role=${ready.softState.role} leader=${ready.softState.leader ?? '-'}`);
  if (ready.hardState !== null) lines.push(`  hard: term=${ready.hardState.term} vote=${ready.hardState.vote ?? '-'} commit=${ready.hardState.commit}`);
  if (ready.entries.length > 0) lines.push(`  entries: ${ready.entries.map(describeEntry).join(' ')}`);
  if (ready.snapshot !== null) lines.push(`  snapshot: index=${ready.snapshot.meta.index} term=${ready.snapshot.meta.term} ${describeConf(ready.snapshot.meta.conf)}`);
  if (ready.committedEntries.length > 0) lines.push(`  committed: ${ready.committedEntries.map(describeEntry).join(' ')}`);
  for (const m of ready.messages) lines.push(`  send: ${describeMessage(m)}`);
  for (const r of ready.readStates) lines.push(`  readState: ctx=${r.context} index=${r.index}${r.rejected === true ? ' rejected' : ''}`);
  return lines;
}
