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
 */
import type { Bus, Subscription } from '../bus/transport.js';
import { decode, encode } from '../bus/codec.js';
import { subjects } from '../bus/subjects.js';
import type { Message, MemberId, Snapshot, SnapshotMeta } from './raft/types.js';

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

interface SnapshotChunk {
  readonly from: MemberId;
  readonly to: MemberId;
  readonly term: number;
  readonly transferId: string;
  readonly meta: SnapshotMeta;
  readonly chunkIndex: number;
  readonly chunkCount: number;
  readonly chunk: Uint8Array;
}

interface Assembly {
  readonly transferId: string;
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
}

export class RaftTransport {
  private readonly names;
  private readonly subscriptions: Subscription[] = [];
  private readonly assemblies = new Map<MemberId, Assembly>();
  private transferSequence = 0;
  private droppedForgeries = 0;

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
    let batch: { from?: unknown; messages?: unknown };
    try {
      batch = decode(data);
    } catch {
      this.droppedForgeries++;
      return;
    }
    if (batch.from !== sender || !Array.isArray(batch.messages)) {
      this.droppedForgeries++;
      return;
    }
    const messages = (batch.messages as Message[]).filter((m) => m.from === sender && m.to === this.options.self);
    if (messages.length !== batch.messages.length) this.droppedForgeries++;
    if (messages.length > 0) this.options.onMessages(messages);
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
    let chunk: SnapshotChunk;
    try {
      chunk = decode(data);
    } catch {
      return false;
    }
    if (chunk.from !== sender || chunk.to !== this.options.self || chunk.chunkIndex >= chunk.chunkCount) return false;
    let assembly = this.assemblies.get(sender);
    if (assembly === undefined || assembly.transferId !== chunk.transferId) {
      if (assembly === undefined && this.assemblies.size >= raftTransportLimits.snapshotAssembliesMax) return false;
      assembly = { transferId: chunk.transferId, chunks: new Array(chunk.chunkCount), received: 0 };
      this.assemblies.set(sender, assembly);
    }
    if (assembly.chunks[chunk.chunkIndex] === undefined) {
      assembly.chunks[chunk.chunkIndex] = Uint8Array.from(chunk.chunk);
      assembly.received++;
    }
    if (assembly.received === chunk.chunkCount) {
      this.assemblies.delete(sender);
      const data = Buffer.concat(assembly.chunks as Uint8Array[]);
      this.options.onMessages([{
        type: 'snapshot', from: chunk.from, to: chunk.to, term: chunk.term,
        snapshot: { meta: chunk.meta, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) },
      }]);
    }
    return true;
  }
}

/** `kubus.<cluster>.raft.<from>.to.<to>[.snap]` → `<from>`. */
function senderOf(subject: string): string {
  return subject.split('.')[3] ?? '';
}

function approximateBytes(message: Message): number {
  if (message.type !== 'append') return 64;
  let bytes = 64;
  for (const entry of message.entries) bytes += entry.data.length + 24;
  return bytes;
}
