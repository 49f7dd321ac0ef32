/**
 * WalLog under power cuts, over many seeds: a random workload (appends, Raft overwrites, hard
 * states, synced and unsynced saves, local and received snapshots, rollovers) on MemoryWalFiles,
 * cut at random points (between saves, or inside a sync), restarted, continued, cut again.
 *
 * The model replays each save record by record, so it knows every state the log passed through;
 * after a power cut the WAL must load (a torn tail is not damage) one of the states at or after
 * the last sync that returned: nothing synced is lost, nothing is invented, nothing is reordered.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../../bus/prng.js';
import type { Entry, HardState } from '../../../store/raft/types.js';
import { MemoryWalFiles, WalLog } from '../../../store/wal/index.js';
import { batch, entry, smallSegmentBytes, snapshot } from './wal-fixtures.js';

class PowerCut extends Error {}

interface Model {
  hardState: HardState;
  snapIndex: number;
  snapTerm: number;
  terms: number[];
}

const key = (m: Model): string => `${m.hardState.term}/${m.hardState.vote}/${m.hardState.commit}|${m.snapIndex}/${m.snapTerm}|${m.terms.join(',')}`;
/** Entry data sizes vary with index and term, up to 448 KiB, so 8 MiB segments roll over often. */
const sizeOf = (index: number, term: number): number => ((index * 7919 + term * 104729) % 8) * 64 * 1024 + 16;

function runSeed(seed: number): void {
  const random = new Prng(seed);
  let cutArmed = false;
  let files = new MemoryWalFiles({
    beforeSync: () => {
      if (cutArmed) throw new PowerCut();
    },
  });
  let log = new WalLog(files, { segmentBytes: smallSegmentBytes });
  log.load();
  let model: Model = { hardState: { term: 0, vote: null, commit: 0 }, snapIndex: 0, snapTerm: 0, terms: [] };
  let states: string[] = [key(model)];
  let synced = 0;
  const step = (change: (m: Model) => void): void => {
    model = { ...model, terms: [...model.terms] };
    change(model);
    states.push(key(model));
  };
  for (let cycle = 0; cycle < 4; cycle++) {
    const saves = random.between(5, 60);
    try {
      for (let save = 0; save < saves; save++) {
        if (random.chance(0.05)) cutArmed = true;
        const last = model.snapIndex + model.terms.length;
        const term = Math.max(1, model.hardState.term + (random.chance(0.1) ? 1 : 0));
        if (random.chance(0.08) && model.hardState.commit > model.snapIndex) {
          const index = random.between(model.snapIndex + 1, model.hardState.commit);
          const snapTerm = model.terms[index - model.snapIndex - 1] as number;
          // The model moves first: a cut inside the call may leave the WAL at either state.
          step((m) => {
            m.terms = m.terms.slice(index - m.snapIndex);
            m.snapIndex = index;
            m.snapTerm = snapTerm;
          });
          log.saveLocalSnapshot(snapshot(index, snapTerm));
          synced = states.length - 1;
          continue;
        }
        const received = random.chance(0.03) ? snapshot(last + random.between(1, 5), term) : null;
        const base = received?.meta.index ?? last;
        const from = received === null ? random.between(Math.max(model.hardState.commit, model.snapIndex) + 1, base + 1) : base + 1;
        const count = random.between(0, 6);
        const newEntries: Entry[] = [];
        for (let index = from; index < from + count; index++) newEntries.push(entry(index, term, sizeOf(index, term)));
        const lastAfter = count > 0 ? from + count - 1 : base;
        const hardState = random.chance(0.7) ? { term, vote: random.chance(0.5) ? 's1' : null, commit: Math.min(lastAfter, Math.max(model.hardState.commit, random.between(model.hardState.commit, lastAfter))) } : null;
        const sync = received !== null || random.chance(0.8);
        if (received) step((m) => Object.assign(m, { snapIndex: received.meta.index, snapTerm: received.meta.term, terms: [] }));
        for (const e of newEntries) step((m) => (m.terms.length = e.index - m.snapIndex - 1, m.terms.push(e.term)));
        if (hardState) step((m) => (m.hardState = hardState));
        log.save(batch({ entries: newEntries, ...(hardState ? { hardState } : {}), ...(received ? { snapshot: received } : {}) }), { sync });
        if (sync) synced = states.length - 1;
      }
    } catch (error) {
      if (!(error instanceof PowerCut)) throw error;
    }
    cutArmed = false;
    files = random.chance(0.8) ? files.crash(random) : files.reopen();
    log = new WalLog(files, { segmentBytes: smallSegmentBytes });
    const loaded = log.load();
    // Buffer.equals: a deep toEqual over hundreds of KiB per entry takes minutes.
    for (const e of loaded.entries) expect(Buffer.from(e.data).equals(entry(e.index, e.term, sizeOf(e.index, e.term)).data)).toBe(true);
    const found: Model = {
      hardState: loaded.hardState,
      snapIndex: loaded.snapshot?.meta.index ?? 0,
      snapTerm: loaded.snapshot?.meta.term ?? 0,
      terms: loaded.entries.map((e) => e.term),
    };
    const at = states.indexOf(key(found), synced);
    if (at < 0) throw new Error(`seed ${seed} cycle ${cycle}: loaded ${key(found).slice(0, 300)}, not a state at or after the last sync:\n${states.slice(synced).map((s) => s.slice(0, 300)).join('\n')}`);
    expect([log.firstIndex(), log.lastIndex()]).toEqual([found.snapIndex + 1, found.snapIndex + found.terms.length]);
    model = found;
    states = [key(model)];
    synced = 0;
  }
}

describe('WalLog under power cuts', () => {
  // 60 seeds in groups, each well inside the test timeout on a loaded 2-core machine.
  it.each([1, 16, 31, 46])('loads a state at or after the last sync, seeds %i to +14', (first) => {
    for (let seed = first; seed < first + 15; seed++) runSeed(seed);
  });
});
