/**
 * Shared setup for the MVCC suites: a store over a fresh backend table, and `apply` that runs a
 * command in its own write transaction, as the Raft driver does (which also keeps going after a
 * refused command: `applyKeepingRefusals` reproduces that, so atomicity of refusals is testable).
 */
import type { Backend } from '../../store/backend.js';
import { MemoryBackend } from '../../store/memory-backend.js';
import { MvccStore } from '../../store/mvcc/index.js';
import type { WriteCommand, WriteResult } from '../../store/mvcc/types.js';

export interface StoreFixture {
  readonly backend: Backend;
  readonly store: MvccStore;
  apply(command: WriteCommand): WriteResult;
  /** Like the driver: a refused command's error is returned, and the transaction still commits. */
  applyKeepingRefusals(command: WriteCommand): WriteResult | Error;
  put(key: string, value: string, extra?: { lease?: number }): WriteResult;
  del(key: string, extra?: { end?: string; prefix?: boolean }): WriteResult;
}

export function storeOn(backend: Backend = new MemoryBackend()): StoreFixture {
  const store = new MvccStore(backend.table('mvcc'));
  const apply = (command: WriteCommand): WriteResult => backend.writeSync(() => store.apply(command));
  return {
    backend,
    store,
    apply,
    applyKeepingRefusals: (command) =>
      backend.writeSync(() => {
        try {
          return store.apply(command);
        } catch (error) {
          return error as Error;
        }
      }),
    put: (key, value, extra = {}) => apply({ type: 'put', request: { key, value: text(value), ...extra } }),
    del: (key, extra = {}) => apply({ type: 'delete', request: { key, ...extra } }),
  };
}

export const text = (value: string): Uint8Array => new TextEncoder().encode(value);
export const str = (value: Uint8Array): string => new TextDecoder().decode(value);

/** Current value of a key as text, or null. */
export function valueOf(store: MvccStore, key: string, revision = 0): string | null {
  const kv = store.range({ key, revision })?.kvs[0];
  return kv === undefined ? null : str(kv.value);
}

export function keysOf(store: MvccStore, request: Parameters<MvccStore['range']>[0]): string[] {
  return store.range(request).kvs.map((kv) => kv.key);
}
