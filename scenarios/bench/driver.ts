/**
 * `tsx scenarios/bench/driver.ts`: the CPU a write costs inside store members, without NATS, the
 * store client or the member service. Three RaftDrivers run in this one process, wired by an
 * in-memory network, each with the member's own storage: the Raft log in a WAL directory
 * (`--log wal`, default) or in memory (`--log memory`: no I/O, the core and the apply alone), the
 * state machine on LMDB (`--backend lmdb`, default) or MemoryBackend. N loops each keep one put in
 * flight on the leader (`driver.write`, as the member service calls it). Each row prints writes/s,
 * latency and the process's CPU µs per write (user + system, all members together: comparable to
 * the member processes' summed CPU in bench:store, minus the bus).
 *
 * Decision: by default (`--clock virtual`) the drivers run on a simulated clock that never moves
 * and are never ticked once a leader is elected, and each row is a fixed number of writes: no
 * heartbeats, timers or idle turns are counted, so CPU µs per write is the work of the writes
 * alone and comparable between runs on a machine others load (the wall-clock figures are not).
 * Delivery and Ready processing still go through setImmediate, so proposals batch as in a member.
 * `--clock real` ticks the members on real timers and runs each row for `--row-ms`.
 *
 * Figures, not assertions. Profile with
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof scenarios/bench/driver.ts --clients 256
 *
 * Decision: by default the network encodes each destination's messages as one msgpack batch and
 * the receiver decodes and checks it (raft-transport.ts's work), so the figure includes what a
 * member spends on Raft traffic; `--no-wire` hands the message objects over as they are, leaving
 * the core and the apply alone. Delivery is deferred with setImmediate, as a network hop would be.
 *
 * MemoryBackend is the simulation's disk: it copies every table on each transaction, so its cost
 * per write grows with the data; use it to see the core and the state machine without LMDB, on
 * short rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SimulatedClock, SystemClock, type Clock } from '../../bus/clock.js';
import { decode, encode } from '../../bus/codec.js';
import { Prng } from '../../bus/prng.js';
import { defaultRaftTiming, driverLimits, LmdbBackend, MemoryBackend, RaftDriver, type Backend, type Entry, type HardState, type Message, type Snapshot } from '../../store/index.js';
import type { LoadedRaftLog, RaftLogBatch, RaftLogStorage } from '../../store/raft-log-storage.js';
import { checkRaftBatch } from '../../store/raft-wire-check.js';
import { NodeWalFiles, WalLog } from '../../store/wal/index.js';
import { percentile } from './workload.js';

const benchDriverLimits = {
  /** Keys written round-robin (bench:store's workload uses the same). */
  keys: 10_000,
  /** LMDB map per member: a few rows of 256-byte puts stay far below it. */
  mapSizeBytes: 1024 * 1024 * 1024,
  /** A leader not elected within this is a broken setup, not a slow machine. */
  electionTimeoutMs: 10_000,
} as const;

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'lmdb' },
    log: { type: 'string', default: 'wal' },
    clients: { type: 'string', default: '1,16,256' },
    clock: { type: 'string', default: 'virtual' },
    'row-ms': { type: 'string', default: '3000' },
    'warmup-ms': { type: 'string', default: '500' },
    writes: { type: 'string', default: '20000' },
    'warmup-writes': { type: 'string', default: '5000' },
    'value-bytes': { type: 'string', default: '256' },
    members: { type: 'string', default: '3' },
    'no-wire': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

const backendKind = values.backend === 'memory' ? 'memory' : 'lmdb';
const logKind = values.log === 'memory' ? 'memory' : 'wal';
const clientCounts = values.clients.split(',').map(Number);
const rowMs = Number(values['row-ms']);
const warmupMs = Number(values['warmup-ms']);
const valueBytes = Number(values['value-bytes']);
const memberCount = Number(values.members);
const wire = !values['no-wire'];
const virtualClock = values.clock !== 'real';
const rowWrites = Number(values.writes);
const warmupWrites = Number(values['warmup-writes']);

interface Row {
  readonly clients: number;
  readonly writesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuMicrosPerWrite: number;
  /** CPU time over wall time: 1.0 is one core busy. */
  readonly cpuShare: number;
  readonly errors: number;
}

/**
 * The Raft log kept in memory, no I/O: the bench measures the core and the apply, not the WAL
 * (store/wal/ has its own figures). Entries are kept as handed over, as a WAL's page cache would.
 */
class MemoryRaftLog implements RaftLogStorage {
  private hardState: HardState = { term: 0, vote: null, commit: 0 };
  private snapshot: Snapshot | null = null;
  private entries: Entry[] = [];

  load(): LoadedRaftLog {
    return { hardState: this.hardState, snapshot: this.snapshot, entries: [...this.entries] };
  }

  save(batch: RaftLogBatch): void {
    if (batch.snapshot !== null) {
      this.snapshot = batch.snapshot;
      this.entries = [];
    }
    const first = batch.entries[0];
    if (first !== undefined) {
      this.entries.length = Math.max(0, first.index - this.firstIndex());
      for (const entry of batch.entries) this.entries.push(entry);
    }
    if (batch.hardState !== null) this.hardState = batch.hardState;
  }

  saveLocalSnapshot(snapshot: Snapshot): void {
    this.entries = this.entries.slice(Math.max(0, snapshot.meta.index + 1 - this.firstIndex()));
    this.snapshot = snapshot;
  }

  firstIndex(): number {
    return (this.snapshot?.meta.index ?? 0) + 1;
  }

  lastIndex(): number {
    return this.firstIndex() + this.entries.length - 1;
  }

  term(index: number): number | null {
    if (index === this.firstIndex() - 1) return this.snapshot?.meta.term ?? null;
    return this.entries[index - this.firstIndex()]?.term ?? null;
  }

  close(): void {}
}

class Cluster {
  readonly drivers = new Map<string, RaftDriver>();
  private readonly backends: Backend[] = [];
  private readonly logs: RaftLogStorage[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly directory: string | null;
  private readonly clock: Clock = virtualClock ? new SimulatedClock() : new SystemClock();

  constructor(ids: readonly string[]) {
    this.directory = backendKind === 'lmdb' || logKind === 'wal' ? mkdtempSync(join(tmpdir(), 'kubus-driver-bench-')) : null;
    const clock = this.clock;
    ids.forEach((id, position) => {
      const directory = this.directory === null ? null : join(this.directory, id);
      // The member's layout: `<dataDir>/store` the LMDB environment, `<dataDir>/wal` the log.
      const backend: Backend = directory === null || backendKind === 'memory' ? new MemoryBackend() : LmdbBackend.open(join(directory, 'store'), { mapSizeBytes: benchDriverLimits.mapSizeBytes });
      const log: RaftLogStorage = directory === null || logKind === 'memory' ? new MemoryRaftLog() : new WalLog(new NodeWalFiles(join(directory, 'wal')));
      this.backends.push(backend);
      this.logs.push(log);
      const driver = new RaftDriver({
        self: id,
        initialMembers: ids,
        backend,
        log,
        clock,
        random: new Prng(position + 1),
        timing: defaultRaftTiming,
        send: (messages) => this.send(id, messages),
        snapshotEveryEntries: driverLimits.snapshotEveryEntries,
        defer: (fn) => setImmediate(fn),
      });
      this.drivers.set(id, driver);
      if (!virtualClock) this.timers.push(setInterval(() => driver.tick(), defaultRaftTiming.tickMs));
    });
  }

  /** Like raft-transport.ts: one batch per destination, encoded, delivered on a later turn. */
  private send(from: string, messages: readonly Message[]): void {
    const byDestination = new Map<string, Message[]>();
    for (const message of messages) {
      const list = byDestination.get(message.to);
      if (list === undefined) byDestination.set(message.to, [message]);
      else list.push(message);
    }
    for (const [to, list] of byDestination) {
      const payload = wire ? encode({ from, messages: list }) : null;
      setImmediate(() => this.deliver(from, to, payload ?? list));
    }
  }

  private deliver(from: string, to: string, batch: Uint8Array | readonly Message[]): void {
    const driver = this.drivers.get(to);
    if (driver === undefined) return;
    let messages: readonly Message[];
    if (batch instanceof Uint8Array) {
      const checked = checkRaftBatch(decode(batch), from, to);
      if ('reason' in checked) throw new Error(`bench network: ${checked.reason}`);
      messages = checked.messages;
    } else {
      messages = batch;
    }
    driver.receive(messages);
    for (const message of messages) if (message.type === 'snapshot') this.drivers.get(from)?.reportSnapshot(to, true);
  }

  /** Ticks the members (by hand on the virtual clock) until one leads with a quorum behind it. */
  async leader(): Promise<RaftDriver> {
    const deadline = performance.now() + benchDriverLimits.electionTimeoutMs;
    for (;;) {
      for (const driver of this.drivers.values()) if (driver.isLeader() && driver.status().writable) return driver;
      if (performance.now() > deadline) throw new Error('no leader elected');
      if (this.clock instanceof SimulatedClock) {
        this.clock.advance(defaultRaftTiming.tickMs);
        for (const driver of this.drivers.values()) driver.tick();
        // Let the deliveries and Ready rounds this tick started run before the next one.
        for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
      } else {
        await new Promise((resolve) => setTimeout(resolve, defaultRaftTiming.tickMs));
      }
    }
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    for (const driver of this.drivers.values()) driver.stop();
    for (const log of this.logs) log.close();
    for (const backend of this.backends) backend.close();
    if (this.directory !== null) rmSync(this.directory, { recursive: true, force: true });
  }
}

/** Each client keeps one put in flight until the row has `writes` of them, or `durationMs` passed. */
async function runLoad(leader: RaftDriver, clients: number, limit: { durationMs: number; writes: number }, sequence: { next: number }): Promise<{ latencies: number[]; errors: number }> {
  const value = new Uint8Array(valueBytes).fill(97);
  const latencies: number[] = [];
  let errors = 0;
  let started = 0;
  const until = performance.now() + limit.durationMs;
  const loop = async (): Promise<void> => {
    while (performance.now() < until && started++ < limit.writes) {
      const key = `bench/${(sequence.next++ * 7919) % benchDriverLimits.keys}`;
      const started = performance.now();
      try {
        await leader.write({ type: 'put', request: { key, value } }, null);
        latencies.push(performance.now() - started);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, loop));
  return { latencies, errors };
}

async function row(leader: RaftDriver, clients: number, sequence: { next: number }): Promise<Row> {
  const endless = Number.POSITIVE_INFINITY;
  await runLoad(leader, clients, virtualClock ? { durationMs: endless, writes: warmupWrites } : { durationMs: warmupMs, writes: endless }, sequence);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const { latencies, errors } = await runLoad(leader, clients, virtualClock ? { durationMs: endless, writes: rowWrites } : { durationMs: rowMs, writes: endless }, sequence);
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMicros = cpu.user + cpu.system;
  latencies.sort((a, b) => a - b);
  const writes = latencies.length;
  return {
    clients,
    writesPerSecond: Math.round((writes * 1000) / elapsedMs),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    cpuMicrosPerWrite: writes === 0 ? Number.NaN : Math.round(cpuMicros / writes),
    cpuShare: round(cpuMicros / 1000 / elapsedMs),
    errors,
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

const ids = Array.from({ length: memberCount }, (_, i) => `s${i + 1}`);
const rows: Row[] = [];
process.stderr.write(`driver bench: ${memberCount} members, log ${logKind}, state machine ${backendKind}, ${wire ? 'msgpack wire' : 'objects handed over'}, ${valueBytes}-byte values, ${virtualClock ? `virtual clock, ${rowWrites} writes a row` : `real clock, ${rowMs} ms rows`}, a fresh cluster per row\n`);
for (const clients of clientCounts) {
  // Fresh members per row: the history (and so each snapshot's size) starts equal for every row.
  const cluster = new Cluster(ids);
  try {
    const result = await row(await cluster.leader(), clients, { next: 0 });
    rows.push(result);
    process.stderr.write(
      `puts x${clients}: ${result.writesPerSecond}/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, CPU ${result.cpuMicrosPerWrite} µs/write (${result.cpuShare} cores), errors ${result.errors}\n`,
    );
  } finally {
    cluster.stop();
  }
}
if (values.json) console.log(JSON.stringify({ backend: backendKind, log: logKind, clock: virtualClock ? 'virtual' : 'real', wire, members: memberCount, valueBytes, rows }));
