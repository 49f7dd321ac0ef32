/**
 * `tsx scenarios/bench/wal.ts`: what one durable save of the Raft log costs, by storage:
 * - `wal`: WalLog over NodeWalFiles (one write, one fdatasync per save; issue 14);
 * - `lmdb-sync`: an LMDB environment opened with lmdb-js's defaults (a synchronous commit: the
 *   data pages and the meta page are synced), the entries and the hard state in one transaction:
 *   what a Raft log in LMDB costs when LMDB itself makes it durable;
 * - `lmdb-backend`: the previous format (BackendRaftLog: the `log`/`meta` tables) on the member's
 *   LmdbBackend as it is opened now (noSync, then one fdatasync of data.mdb per durable transaction).
 * Each row appends batches of 1 or 64 entries of 300 bytes, with a hard state, synced, and prints
 * p50/p99/max in ms and saves/s. Also the cost of growing a WAL segment by one zero-filled chunk.
 *
 * Decision: this bench imports lmdb directly (the adapter rule keeps it in store files otherwise):
 * the baseline it measures is LMDB's own synchronous commit, which no store file uses any more.
 *
 * Figures, not assertions; the machine is shared, so the load average is printed with them and
 * rows run interleaved in rounds (`--rounds`) so that all see the same neighbours.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { open as openLmdb } from 'lmdb';
import { BackendRaftLog } from '../../store/backend-raft-log.js';
import { LmdbBackend, type Entry, type HardState } from '../../store/index.js';
import type { RaftLogStorage } from '../../store/raft-log-storage.js';
import { NodeWalFiles, WalLog, walLimits } from '../../store/wal/index.js';
import { percentile } from './workload.js';

const { values } = parseArgs({
  options: {
    saves: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    'entry-bytes': { type: 'string', default: '300' },
    json: { type: 'boolean', default: false },
  },
});
const savesPerRound = Number(values.saves);
const rounds = Number(values.rounds);
const entryBytes = Number(values['entry-bytes']);
const batchSizes = [1, 64] as const;
/** LMDB map for the baselines: the largest row writes ~1,000 × 64 × 300 B × rounds. */
const mapSizeBytes = 4 * 1024 * 1024 * 1024;

type Kind = 'wal' | 'lmdb-sync' | 'lmdb-backend';
interface Target {
  readonly kind: Kind;
  save(entries: readonly Entry[], hardState: HardState): void;
  close(): void;
}

const root = mkdtempSync(join(tmpdir(), 'kubus-bench-wal-'));

function logTarget(kind: Kind, log: RaftLogStorage): Target {
  log.load();
  return { kind, save: (entries, hardState) => log.save({ entries, hardState, snapshot: null }, { sync: true }), close: () => log.close() };
}

function lmdbSyncTarget(directory: string): Target {
  const environment = openLmdb({ path: directory, mapSize: mapSizeBytes, encoding: 'binary' });
  const key = new Uint8Array(8);
  const keyView = new DataView(key.buffer);
  return {
    kind: 'lmdb-sync',
    save: (entries, hardState) => {
      environment.transactionSync(() => {
        for (const entry of entries) {
          keyView.setUint32(0, Math.floor(entry.index / 0x1_0000_0000));
          keyView.setUint32(4, entry.index >>> 0);
          void environment.put(Buffer.from(key), entry.data);
        }
        void environment.put('hard-state', Buffer.from(JSON.stringify(hardState)));
      });
      // transactionSync returns once the commit (with lmdb-js's default sync) is done.
    },
    close: () => void environment.close(),
  };
}

function makeTarget(kind: Kind, round: number, batch: number): Target {
  const directory = join(root, `${kind}-${batch}-${round}`);
  if (kind === 'wal') return logTarget(kind, new WalLog(new NodeWalFiles(directory)));
  if (kind === 'lmdb-backend') return logTarget(kind, new BackendRaftLog(LmdbBackend.open(directory, { mapSizeBytes })));
  return lmdbSyncTarget(directory);
}

function run(target: Target, batch: number): number[] {
  const latencies: number[] = [];
  let index = 1;
  for (let save = 0; save < savesPerRound; save++) {
    const entries: Entry[] = [];
    for (let i = 0; i < batch; i++, index++) {
      const data = new Uint8Array(entryBytes);
      data[0] = index & 0xff;
      entries.push({ term: 1, index, type: 'normal', data });
    }
    const started = performance.now();
    target.save(entries, { term: 1, vote: 's1', commit: index - 1 });
    latencies.push(performance.now() - started);
  }
  target.close();
  return latencies;
}

/** One chunk of segment growth: zeros written and synced, as a save that crosses into a new chunk pays. */
function growthCost(): number[] {
  const files = new NodeWalFiles(join(root, 'growth'));
  const zeros = new Uint8Array(walLimits.preallocateChunkBytes);
  files.create('grow', 0);
  const latencies: number[] = [];
  for (let chunk = 0; chunk < 32; chunk++) {
    const started = performance.now();
    files.write('grow', chunk * zeros.length, zeros);
    files.sync('grow');
    latencies.push(performance.now() - started);
  }
  files.close();
  return latencies;
}

const results = new Map<string, number[]>();
// Warm-up: the first saves of each kind pay for compilation and first-touch page faults.
for (const kind of ['wal', 'lmdb-sync', 'lmdb-backend'] as const) run(makeTarget(kind, -1, 64), 64);
const loadBefore = loadavg()[0] as number;
for (let round = 0; round < rounds; round++) {
  for (const batch of batchSizes) {
    for (const kind of ['wal', 'lmdb-sync', 'lmdb-backend'] as const) {
      const key = `${kind} ×${batch}`;
      results.set(key, [...(results.get(key) ?? []), ...run(makeTarget(kind, round, batch), batch)]);
    }
  }
}
results.set('wal chunk growth (1 MiB zeros + fdatasync)', growthCost());
const loadAfter = loadavg()[0] as number;
rmSync(root, { recursive: true, force: true });

const rows = [...results].map(([name, latencies]) => {
  const sorted = [...latencies].sort((a, b) => a - b);
  const total = latencies.reduce((sum, value) => sum + value, 0);
  const round3 = (value: number): number => Math.round(value * 1000) / 1000;
  return { name, saves: latencies.length, p50Ms: round3(percentile(sorted, 50)), p99Ms: round3(percentile(sorted, 99)), maxMs: round3(sorted[sorted.length - 1] ?? 0), savesPerSecond: Math.round((latencies.length / total) * 1000) };
});
if (values.json) {
  console.log(JSON.stringify({ entryBytes, savesPerRound, rounds, loadBefore, loadAfter, rows }));
} else {
  console.log(`WAL vs LMDB: durable saves of 1 and 64 entries of ${entryBytes} B plus a hard state; ${rounds} rounds × ${savesPerRound} saves; load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)}`);
  console.log(`${'storage × entries per save'.padEnd(44)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'saves/s'.padStart(8)}`);
  for (const row of rows) console.log(`${row.name.padEnd(44)} ${row.p50Ms.toFixed(3).padStart(8)} ${row.p99Ms.toFixed(3).padStart(8)} ${row.maxMs.toFixed(3).padStart(8)} ${String(row.savesPerSecond).padStart(8)}`);
}
