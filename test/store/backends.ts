/**
 * The two storage backends under test, behind one factory, so each suite runs unchanged on the
 * simulation's disk and on LMDB. `restart` stands for a process restart: committed data only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../../store/backend.js';
import { LmdbBackend } from '../../store/lmdb-backend.js';
import { MemoryBackend } from '../../store/memory-backend.js';

export interface BackendFixture {
  backend: Backend;
  /** Closes the current backend and opens the same data again. */
  restart(): Backend;
  dispose(): void;
}

export type BackendKind = 'memory' | 'lmdb';
export const backendKinds: readonly BackendKind[] = ['memory', 'lmdb'];

/** Large enough for every test except the one that fills it on purpose. */
const testMapSizeBytes = 64 * 1024 * 1024;

export function makeBackend(kind: BackendKind, options: { mapSizeBytes?: number; quotaBytes?: number } = {}): BackendFixture {
  if (kind === 'memory') {
    let backend = new MemoryBackend();
    if (options.quotaBytes !== undefined) backend.setQuotaBytes(options.quotaBytes);
    return {
      get backend() {
        return backend;
      },
      restart() {
        const next = backend.reopen();
        backend.close();
        backend = next;
        return backend;
      },
      dispose() {
        backend.close();
      },
    };
  }
  const directory = mkdtempSync(join(tmpdir(), 'kubus-store-test-'));
  const mapSizeBytes = options.mapSizeBytes ?? testMapSizeBytes;
  const lmdbOptions = { mapSizeBytes, ...(options.quotaBytes !== undefined ? { quotaBytes: options.quotaBytes } : {}) };
  let backend = LmdbBackend.open(directory, lmdbOptions);
  return {
    get backend() {
      return backend;
    },
    restart() {
      backend.close();
      backend = LmdbBackend.open(directory, lmdbOptions);
      return backend;
    },
    dispose() {
      backend.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
