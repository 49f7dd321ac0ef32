/**
 * Carries Raft messages between members over the bus.
 *
 * Ordinary messages go as msgpackr batches, one publish per destination per Ready, on
 * `raft.<from>.to.<to>`. Snapshots go separately, in chunks on `raft.<from>.to.<to>.snap`, each
 * chunk a request the receiver acknowledges, with a bounded window of chunks in flight: a state
 * larger than NATS's 1 MB message limit installs, and a slow receiver slows the sender instead of
 * being flooded.
 *
 * Decision: the receiver drops a batch whose payload names another sender than the subject does,
 * so a member that may publish only under its own `<from>` (NATS permissions) cannot forge
 * messages from another member.
 *
 * Decision: every field of a batch or chunk is checked before use (raft-wire-check.ts); what fails
 * is dropped, counted and logged (the 1st, 2nd, 4th, 8th... drop, so a flood of garbage cannot
 * flood the log), and a chunk is answered `ok: false`. A chunk of a transfer must agree with the
 * transfer's first chunk (count, term, metadata), or an assembly could complete with holes.
 */
import type { Bus, Subscription } from '../bus/transport.js';
import type { Logger } from '../bus/logger.js';
import { decode, encode } from '../bus/codec.js';
import { subjects } from '../bus/subjects.js';
import type { Message, MemberId, Snapshot, SnapshotMeta } from './raft/types.js';
import { checkRaftBatch, checkSnapshotChunk, isMemberId, type SnapshotChunk } from './raft-wire-check.js';

export const raftTransportLimits = {
  /** A batch is cut before this many encoded bytes: below NATS's default 1 MiB max_payload with headroom. */
  batchBytesMax: 768 * 1024,
  /** Snapshot chunk size: well under max_payload, large enough that a 100 MB state is 400 requests. */
  snapshotChunkBytesMax: 256 * 1024,
  /** Chunks awaiting acknowledgement per snapshot stream: keeps ~1 MiB in flight. */
  snapshotChunksInFlightMax: 4,
  /** A chunk not acknowledged in this time fails the whole transfer; the leader retries later. */
  snapshotChunkTimeoutMs: 5_000,
  /** Inbound raft batches waiting for the member; beyond this they are dropped (Raft retransmits). */
  inboundPendingMax: 4_096,
  /** Partially received snapshots kept at once, one per sender. */
  snapshotAssembliesMax: 4,
} as const;

interface Assembly {
  readonly transferId: string;
  readonly term: number;
  readonly meta: SnapshotMeta;
  readonly chunks: (Uint8Array | undefined)[];
  received: number;
}

export interface RaftTransportOptions {
  readonly bus: Bus;
  readonly cluster: string;
  readonly self: MemberId;
  /** Called with every batch that passed the sender check, in arrival order. */
  readonly onMessages: (messages: readonly Message[]) => void;
  /** Outcome of a snapshot transfer, for `RaftNode.reportSnapshot`. */
  readonly onSnapshotSent: (to: MemberId, ok: boolean) => void;
  /** Where dropped (malformed or forged) input is reported; without it drops are only counted. */
  readonly logger?: Logger;
}

export class RaftTransport {
  private readonly names;
  private readonly subscriptions: Subscription[] = [];
  private readonly assemblies = new Map<MemberId, Assembly>();
  private transferSequence = 0;
  private droppedForgeries = 0;
  private droppedInvalid = 0;

  constructor(private readonly options: RaftTransportOptions) {
    this.names = subjects(options.cluster);
  }

  start(): void {
    const { bus, self } = this.options;
    this.subscriptions.push(
      bus.subscribe(this.names.raftInbound(self), (message) => this.onBatch(message.subject, message.data), {
        pendingMax: raftTransportLimits.inboundPendingMax,
      }),
      bus.subscribe(this.names.raftSnapshotInbound(self), (message) => {
        const ack = this.onChunk(message.subject, message.data);
        bus.respond(message, encode({ ok: ack }));
      }, { pendingMax: raftTransportLimits.snapshotChunksInFlightMax * raftTransportLimits.snapshotAssembliesMax * 2 }),
    );
  }

  stop(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
    this.assemblies.clear();
  }

  forgeriesDropped(): number {
    return this.droppedForgeries;
  }

  /** Batches and chunks dropped because a field was malformed or forged (forgeries included). */
  invalidDropped(): number {
    return this.droppedInvalid;
  }

  /** Sends a Ready's messages: snapshots by the chunked path, the rest batched per destination. */
  send(messages: readonly Message[]): void {
    const byDestination = new Map<MemberId, Message[]>();
    for (const message of messages) {
      if (message.type === 'snapshot') {
        void this.sendSnapshot(message.to, message.term, message.snapshot);
        continue;
      }
      const list = byDestination.get(message.to) ?? [];
      list.push(message);
      byDestination.set(message.to, list);
    }
    for (const [to, list] of byDestination) this.publishBatches(to, list);
    // The driver sends a leader's appends before its own fsync (raft-driver.ts): put on the wire
    // now, they travel and the followers persist while this member's disk works, not after it.
    this.options.bus.sendPending?.();
  }

  private publishBatches(to: MemberId, messages: readonly Message[]): void {
    const subject = this.names.raft(this.options.self, to);
    let batch: Message[] = [];
    let batchBytes = 0;
    for (const message of messages) {
      const size = approximateBytes(message);
      if (batch.length > 0 && batchBytes + size > raftTransportLimits.batchBytesMax) {
        this.options.bus.publish(subject, encode({ from: this.options.self, messages: batch }));
        batch = [];
        batchBytes = 0;
      }
      batch.push(message);
      batchBytes += size;
    }
    if (batch.length > 0) this.options.bus.publish(subject, encode({ from: this.options.self, messages: batch }));
  }

  private onBatch(subject: string, data: Uint8Array): void {
    const sender = senderOf(subject);
    let value: unknown;
    try {
      value = decode(data);
    } catch {
      return this.drop(subject, 'undecodable batch');
    }
    const checked = checkRaftBatch(value, sender, this.options.self);
    if ('reason' in checked) return this.drop(subject, checked.reason);
    if (checked.messages.length > 0) this.options.onMessages(checked.messages);
  }

  /** Counts and logs a dropped batch or chunk; logs the 1st, 2nd, 4th... so garbage cannot flood the log. */
  private drop(subject: string, reason: string): void {
    this.droppedInvalid++;
    if (reason.includes('sender') || reason.includes('this member')) this.droppedForgeries++;
    if ((this.droppedInvalid & (this.droppedInvalid - 1)) === 0) {
      this.options.logger?.warn('dropped invalid raft input', { subject, reason, droppedTotal: this.droppedInvalid });
    }
  }

  private async sendSnapshot(to: MemberId, term: number, snapshot: Snapshot): Promise<void> {
    const { bus, self } = this.options;
    const subject = this.names.raftSnapshot(self, to);
    const size = raftTransportLimits.snapshotChunkBytesMax;
    const chunkCount = Math.max(1, Math.ceil(snapshot.data.length / size));
    const transferId = `${self}-${snapshot.meta.index}-${++this.transferSequence}`;
    let next = 0;
    const sendOne = async (): Promise<void> => {
      while (next < chunkCount) {
        const chunkIndex = next++;
        const chunk: SnapshotChunk = {
          from: self, to, term, transferId, meta: snapshot.meta, chunkIndex, chunkCount,
          chunk: snapshot.data.subarray(chunkIndex * size, (chunkIndex + 1) * size),
        };
        const reply = decode<{ ok: boolean }>(
          await bus.request(subject, encode(chunk), { timeoutMs: raftTransportLimits.snapshotChunkTimeoutMs }),
        );
        if (!reply.ok) throw new Error(`member ${to} refused snapshot chunk ${chunkIndex}`);
      }
    };
    const windows = Math.min(raftTransportLimits.snapshotChunksInFlightMax, chunkCount);
    try {
      await Promise.all(Array.from({ length: windows }, () => sendOne()));
      this.options.onSnapshotSent(to, true);
    } catch {
      this.options.onSnapshotSent(to, false);
    }
  }

  /** Returns whether the chunk was accepted; a complete snapshot is handed on as one message. */
  private onChunk(subject: string, data: Uint8Array): boolean {
    const sender = senderOf(subject);
    let value: unknown;
    try {
      value = decode(data);
    } catch {
      this.drop(subject, 'undecodable snapshot chunk');
      return false;
    }
    const checked = checkSnapshotChunk(value, sender, this.options.self, raftTransportLimits.snapshotChunkBytesMax);
    if ('reason' in checked) {
      this.drop(subject, `snapshot chunk: ${checked.reason}`);
      return false;
    }
    const { chunk } = checked;
    const assembly = this.assemblyFor(sender, chunk);
    if (assembly === null) {
      this.drop(subject, 'snapshot chunk: disagrees with its transfer, or too many transfers at once');
      return false;
    }
    if (assembly.chunks[chunk.chunkIndex] === undefined) {
      assembly.chunks[chunk.chunkIndex] = Uint8Array.from(chunk.chunk);
      assembly.received++;
    }
    if (assembly.received === assembly.chunks.length) {
      this.assemblies.delete(sender);
      const whole = Buffer.concat(assembly.chunks as Uint8Array[]);
      this.options.onMessages([{
        type: 'snapshot', from: sender, to: this.options.self, term: assembly.term,
        snapshot: { meta: assembly.meta, data: new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength) },
      }]);
    }
    return true;
  }

  /** The sender's assembly for this chunk's transfer (a new transfer replaces the old); null when the chunk disagrees with it. */
  private assemblyFor(sender: MemberId, chunk: SnapshotChunk): Assembly | null {
    const current = this.assemblies.get(sender);
    if (current !== undefined && current.transferId === chunk.transferId) {
      const agrees = current.chunks.length === chunk.chunkCount && current.term === chunk.term
        && current.meta.index === chunk.meta.index && current.meta.term === chunk.meta.term;
      return agrees ? current : null;
    }
    if (current === undefined && this.assemblies.size >= raftTransportLimits.snapshotAssembliesMax) return null;
    const fresh: Assembly = { transferId: chunk.transferId, term: chunk.term, meta: chunk.meta, chunks: new Array<Uint8Array | undefined>(chunk.chunkCount), received: 0 };
    this.assemblies.set(sender, fresh);
    return fresh;
  }
}

/** `kubus.<cluster>.raft.<from>.to.<to>[.snap]` → `<from>`. */
function senderOf(subject: string): string {
  const sender = subject.split('.')[3] ?? '';
  return isMemberId(sender) ? sender : '';
}

function approximateBytes(message: Message): number {
  if (message.type !== 'append') return 64;
  let bytes = 64;
  for (const entry of message.entries) bytes += entry.data.length + 24;
  return bytes;
}
