/**
 * The Backend contract, checked on both implementations: bytewise key order, [start, end) ranges
 * in both directions, read-your-writes inside a transaction, rollback when the transaction throws,
 * that only committed data survives a restart, and that `space()` counts data in use (rising with
 * writes, falling after deletes: deletes must be able to clear a full store). On LMDB also: a
 * transaction is never refused at the quota (refusing inside the Raft Ready loop crash-looped the
 * member), the quota defaults below the map size, and close is idempotent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, Bytes } from '../../store/backend.js';
import { backendKinds, makeBackend, type BackendFixture } from './backends.js';

const bytes = (...values: number[]): Bytes => Uint8Array.from(values);
/** Buffer and Uint8Array compare unequal in vitest; compare contents. */
const contents = (value: Bytes | undefined): number[] | undefined => (value === undefined ? undefined : [...value]);
const keysOf = (backend: Backend, options: Parameters<ReturnType<Backend['table']>['range']>[0]): number[][] =>
  [...backend.table('mvcc').range(options)].map((kv) => [...kv.key]);

describe.each(backendKinds)('Backend conformance on %s', (kind) => {
  let fixture: BackendFixture;
  afterEach(() => fixture.dispose());

  function seed(): Backend {
    fixture = makeBackend(kind);
    const { backend } = fixture;
    backend.writeSync(() => {
      // Inserted out of order; includes keys whose signed-byte order would differ (0x80, 0xff).
      for (const key of [[0x80], [0x01, 0x00], [0x01], [0xff, 0x00], [0x02], [0x00, 0xff]]) backend.table('mvcc').put(bytes(...key), bytes(key.length));
    });
    return backend;
  }

  it('orders keys bytewise, unsigned, shorter prefix first', () => {
    const backend = seed();
    expect(keysOf(backend, {})).toEqual([[0x00, 0xff], [0x01], [0x01, 0x00], [0x02], [0x80], [0xff, 0x00]]);
  });

  it('ranges over [start, end) forwards and backwards, with limits', () => {
    const backend = seed();
    expect(keysOf(backend, { start: bytes(0x01), end: bytes(0x80) })).toEqual([[0x01], [0x01, 0x00], [0x02]]);
    expect(keysOf(backend, { start: bytes(0x01), end: bytes(0x80), reverse: true })).toEqual([[0x02], [0x01, 0x00], [0x01]]);
    expect(keysOf(backend, { start: bytes(0x01, 0x00), end: bytes(0x03), reverse: true })).toEqual([[0x02], [0x01, 0x00]]);
    expect(keysOf(backend, { reverse: true, limit: 2 })).toEqual([[0xff, 0x00], [0x80]]);
    expect(keysOf(backend, { start: bytes(0x02), limit: 1 })).toEqual([[0x02]]);
    expect(keysOf(backend, { start: bytes(0x03), end: bytes(0x03) })).toEqual([]);
  });

  it('sees its own writes inside a transaction and drops them all when it throws', () => {
    const backend = seed();
    const table = backend.table('mvcc');
    expect(() =>
      backend.writeSync(() => {
        table.put(bytes(0x05), bytes(9));
        table.remove(bytes(0x02));
        expect(contents(table.get(bytes(0x05)))).toEqual([9]);
        expect(table.get(bytes(0x02))).toBeUndefined();
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(table.get(bytes(0x05))).toBeUndefined();
    expect(contents(table.get(bytes(0x02)))).toEqual([1]);
  });

  it('refuses writes outside writeSync', () => {
    const backend = seed();
    expect(() => backend.table('mvcc').put(bytes(0x09), bytes(1))).toThrow(/outside writeSync/);
  });

  it('reports the space in use: up with writes, unchanged by a rollback, down after deletes', () => {
    fixture = makeBackend(kind);
    const { backend } = fixture;
    const empty = backend.space().usedBytes;
    backend.writeSync(() => {
      for (let i = 0; i < 64; i++) backend.table('mvcc').put(bytes(i + 1), new Uint8Array(16 * 1024).fill(i));
    });
    const full = backend.space().usedBytes;
    expect(full).toBeGreaterThanOrEqual(empty + 64 * 16 * 1024);
    expect(() => backend.writeSync(() => {
      backend.table('mvcc').put(bytes(0xee), new Uint8Array(64 * 1024));
      throw new Error('abort');
    })).toThrow('abort');
    expect(backend.space().usedBytes).toBe(full);
    backend.writeSync(() => {
      for (let i = 0; i < 64; i++) backend.table('mvcc').remove(bytes(i + 1));
    });
    expect(backend.space().usedBytes).toBeLessThan(empty + 16 * 1024);
    expect(backend.space().quotaBytes).toBeGreaterThan(full);
  });

  it('keeps committed data across a restart, and tables apart', () => {
    seed();
    fixture.backend.writeSync(() => fixture.backend.table('log').put(bytes(0x02), bytes(7)));
    const backend = fixture.restart();
    expect(keysOf(backend, {})).toHaveLength(6);
    expect(contents(backend.table('mvcc').get(bytes(0x02)))).toEqual([1]);
    expect(contents(backend.table('log').get(bytes(0x02)))).toEqual([7]);
    expect([...backend.table('meta').range({})]).toEqual([]);
  });
});

describe('LmdbBackend specifics', () => {
  it('never refuses a transaction at the quota: the store refuses client writes before proposing them', () => {
    const mapSizeBytes = 4 * 1024 * 1024;
    const fixture = makeBackend('lmdb', { mapSizeBytes, quotaBytes: 256 * 1024 });
    try {
      const { backend } = fixture;
      // 1 MiB in 64 KiB transactions: four times the quota, each one committed.
      for (let round = 0; round < 16; round++) backend.writeSync(() => backend.table('mvcc').put(bytes(round + 1), new Uint8Array(64 * 1024).fill(round)));
      const { usedBytes, quotaBytes } = backend.space();
      expect(quotaBytes).toBe(256 * 1024);
      expect(usedBytes).toBeGreaterThan(quotaBytes);
      expect(backend.table('mvcc').get(bytes(16))?.length).toBe(64 * 1024);
    } finally {
      fixture.dispose();
    }
  });

  it('defaults the quota to 3/4 of the map size', () => {
    const fixture = makeBackend('lmdb', { mapSizeBytes: 8 * 1024 * 1024 });
    expect(fixture.backend.space().quotaBytes).toBe(6 * 1024 * 1024);
    fixture.dispose();
  });

  it('closes idempotently', () => {
    const fixture = makeBackend('lmdb');
    fixture.backend.close();
    expect(() => fixture.backend.close()).not.toThrow();
    expect(() => fixture.backend.table('log')).toThrow(/after close/);
    fixture.dispose();
  });
});
