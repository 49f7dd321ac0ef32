/**
 * The store as a replicated state machine: two stores fed the same seeded command stream reach
 * the same hash; a snapshot restored elsewhere reproduces hash and reads; a restart (re-opened
 * table, on the in-memory disk and on LMDB) loses nothing. The same stream is checked against a
 * plain reference model of the key space (latest values, versions, per-revision history) after
 * every command, which is where ordering and revision bugs show up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Prng } from '../../bus/prng.js';
import { KubusError } from '../../bus/errors.js';
import { AssertionError } from '../../bus/assert.js';
import { MemoryBackend } from '../../store/memory-backend.js';
import type { MvccStore } from '../../store/mvcc/index.js';
import type { WriteCommand } from '../../store/mvcc/types.js';
import { backendKinds, makeBackend, type BackendFixture } from '../store/backends.js';
import { storeOn, str, text } from './harness.js';

/** A random but reproducible command stream over a few keys, with leases and compactions. */
function commands(seed: number, count: number): WriteCommand[] {
  const random = new Prng(seed);
  const out: WriteCommand[] = [];
  for (let i = 0; i < count; i++) {
    const key = `k/${random.int(6)}`;
    const roll = random.int(21);
    if (roll < 9) out.push({ type: 'put', request: { key, value: text(`v${i}`), ...(random.chance(0.2) ? { lease: 1 + random.int(2) } : {}) } });
    else if (roll < 12) out.push({ type: 'delete', request: random.chance(0.3) ? { key: 'k/', prefix: true } : { key } });
    else if (roll < 15) {
      out.push({
        type: 'txn',
        request: {
          compare: [{ key, target: 'version', op: random.pick(['equal', 'greater', 'less', 'notEqual'] as const), value: random.int(3) }],
          success: [{ type: 'put', request: { key, value: text(`t${i}`) } }],
          failure: [{ type: 'delete', request: { key: `k/${(random.int(6) + 1) % 6}` } }],
        },
      });
    } else if (roll < 17) out.push({ type: 'leaseGrant', id: 1 + random.int(2), ttlMs: 5_000 });
    else if (roll < 18) out.push({ type: 'leaseRevoke', id: 1 + random.int(2) });
    else if (roll < 19) out.push({ type: 'leaseCheckpoint', checkpoints: [{ id: 1 + random.int(2), remainingMs: random.int(5_000) }] });
    // About half the commands advance the revision: this mixes successful and refused compactions.
    else out.push({ type: 'compact', revision: Math.max(1, Math.floor(i / 2) - random.int(10)) });
  }
  return out;
}

function run(store: { applyKeepingRefusals(command: WriteCommand): unknown; store: MvccStore }, stream: readonly WriteCommand[]): string[] {
  return stream.map((command) => {
    const result = store.applyKeepingRefusals(command);
    store.store.checkInvariants();
    if (result instanceof Error && !(result instanceof KubusError)) throw result;
    return result instanceof KubusError ? result.code : JSON.stringify(result, (_k, v: unknown) => (v instanceof Uint8Array ? str(v) : v));
  });
}

function everything(store: MvccStore): string[] {
  return store.range({ key: '', prefix: true }).kvs.map((kv) => `${kv.key}=${str(kv.value)}@${kv.createRevision}/${kv.modRevision}/v${kv.version}/l${kv.lease}`);
}

describe('MvccStore determinism', () => {
  it('same commands, same results and same hash on two stores; different commands, different hash', () => {
    const stream = commands(42, 400);
    const one = storeOn();
    const two = storeOn();
    expect(run(one, stream)).toEqual(run(two, stream));
    expect(one.store.hash()).toBe(two.store.hash());
    expect(one.store.currentRevision()).toBeGreaterThan(100);
    two.put('extra', '1');
    expect(one.store.hash()).not.toBe(two.store.hash());
  });

  it('snapshot and restore reproduce the hash, reads, leases and history', () => {
    const source = storeOn();
    run(source, commands(7, 300));
    const target = storeOn();
    target.put('stale', 'replaced by the snapshot');
    target.backend.writeSync(() => target.store.restore(source.store.snapshotData()));
    expect(target.store.hash()).toBe(source.store.hash());
    expect(everything(target.store)).toEqual(everything(source.store));
    expect(target.store.leases({ withKeys: true })).toEqual(source.store.leases({ withKeys: true }));
    const from = source.store.compactRevision() + 1;
    expect(target.store.eventsSince({ key: '', prefix: true }, from, 10_000)).toEqual(source.store.eventsSince({ key: '', prefix: true }, from, 10_000));
    // Both continue identically afterwards.
    const more = commands(8, 50);
    expect(run(target, more)).toEqual(run(source, more));
    expect(target.store.hash()).toBe(source.store.hash());
  });

  it('agrees with a reference model after every command, including reads at past revisions', () => {
    const fixture = storeOn(new MemoryBackend());
    const model = new Map<string, { value: string; create: number; mod: number; version: number }>();
    const history: Map<string, string>[] = [new Map()];
    let revision = 0;
    const random = new Prng(3);
    for (let i = 0; i < 300; i++) {
      const key = `k${random.int(8)}`;
      if (random.chance(0.7)) {
        revision++;
        fixture.put(key, `v${i}`);
        const previous = model.get(key);
        model.set(key, { value: `v${i}`, create: previous?.create ?? revision, mod: revision, version: (previous?.version ?? 0) + 1 });
      } else {
        fixture.del(key);
        if (model.delete(key)) revision++;
      }
      history[revision] = new Map([...model].map(([k, v]) => [k, v.value]));
      expect(fixture.store.currentRevision()).toBe(revision);
      const expected = [...model].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v.value}@${v.create}/${v.mod}/v${v.version}/l0`);
      expect(everything(fixture.store)).toEqual(expected);
    }
    for (const at of [1, 50, 120, revision - 1]) {
      const expected = [...(history[at] ?? new Map<string, string>())].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`);
      const actual = fixture.store.range({ key: '', prefix: true, revision: at }).kvs.map((kv) => `${kv.key}=${str(kv.value)}`);
      expect(actual, `at revision ${at}`).toEqual(expected);
    }
  });

  it('the invariant check catches a broken table', () => {
    const fixture = storeOn();
    run(fixture, commands(5, 60));
    const table = fixture.backend.table('mvcc');
    const latest = [...table.range({ start: Uint8Array.of(0x6b), end: Uint8Array.of(0x6c) })][0];
    expect(latest).toBeDefined();
    fixture.backend.writeSync(() => table.remove(Uint8Array.from(latest?.key ?? [])));
    expect(() => fixture.store.checkInvariants()).toThrow(AssertionError);
    fixture.backend.writeSync(() => table.put(Uint8Array.from(latest?.key ?? []), Uint8Array.of(0x95, 0, 0, 0, 0, 0xc4, 0)));
    expect(() => fixture.store.checkInvariants()).toThrow(AssertionError);
    fixture.backend.writeSync(() => table.put(Uint8Array.from(latest?.key ?? []), Uint8Array.from(latest?.value ?? [])));
    expect(() => fixture.store.checkInvariants()).not.toThrow();
  });

  describe.each(backendKinds)('restart on %s', (kind) => {
    let fixture: BackendFixture;
    afterEach(() => fixture.dispose());

    it('a re-opened table is the same state machine', () => {
      fixture = makeBackend(kind);
      const stream = commands(11, 250);
      const before = storeOn(fixture.backend);
      const reference = storeOn();
      expect(run(before, stream)).toEqual(run(reference, stream));
      const hash = before.store.hash();
      const after = storeOn(fixture.restart());
      expect(after.store.hash()).toBe(hash);
      expect(after.store.hash()).toBe(reference.store.hash());
      expect(everything(after.store)).toEqual(everything(reference.store));
      // History reads use reverse scans, which each backend implements its own way.
      const all = { key: '', prefix: true };
      const from = reference.store.compactRevision() + 1;
      expect(after.store.eventsSince(all, from, 10_000)).toEqual(reference.store.eventsSince(all, from, 10_000));
      expect(after.store.range({ ...all, revision: from })).toEqual(reference.store.range({ ...all, revision: from }));
      const more = commands(12, 50);
      expect(run(after, more)).toEqual(run(reference, more));
      expect(after.store.hash()).toBe(reference.store.hash());
    });
  });
});
