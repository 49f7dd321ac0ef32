/**
 * A member's data directory written by the previous format (the Raft log in LMDB's `log` and `meta`
 * tables) opens on the WAL: it is migrated on the first open (every key kept, the old records
 * removed, one log line), opens again without migrating, and an interrupted migration finishes.
 *
 * The old directory is written as the previous version wrote it: a single-member driver whose log
 * is the previous format (`BackendRaftLog`, RaftLogStore underneath) on LMDB, with a local snapshot
 * taken, so the migration carries a snapshot and entries after it.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogFields, Logger } from '../../bus/logger.js';
import { BackendRaftLog } from '../../store/backend-raft-log.js';
import { LmdbBackend } from '../../store/lmdb-backend.js';
import { closeStorage, type MemberStorage } from '../../store/member-machine.js';
import { openMemberStorage, stateMachineDirectory } from '../../store/member-storage.js';
import { RaftDriver } from '../../store/raft-driver.js';
import { RaftLogStore } from '../../store/raft-log-store.js';
import { walDirectory } from '../../store/wal-migration.js';
import { startSingleMember, type SingleMember } from './single-member-driver.js';

const mapSizeBytes = 64 * 1024 * 1024;

function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: (message: string, _fields?: LogFields) => void lines.push(message),
    warn: (message: string, _fields?: LogFields) => void lines.push(message),
    error: (message: string, _fields?: LogFields) => void lines.push(message),
    child: () => logger,
  } as unknown as Logger;
  return logger;
}

function singleMember(storage: MemberStorage): SingleMember {
  return startSingleMember(storage, { snapshotEveryEntries: 20, seed: 3 });
}

async function put(member: ReturnType<typeof singleMember>, key: string, value: string): Promise<void> {
  const done = member.driver.write({ type: 'put', request: { key, value: new TextEncoder().encode(value) } }, `req-${key}-${value}`);
  await member.settle();
  await done;
}

function values(driver: RaftDriver): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of driver.mvcc.range({ key: 'k/', end: 'k0' }).kvs) out[kv.key] = new TextDecoder().decode(kv.value);
  return out;
}

/** Writes `count` keys through a member whose log is the previous format, as the previous version did. */
async function writeOldFormat(dataDir: string, count: number): Promise<Record<string, string>> {
  const backend = LmdbBackend.open(stateMachineDirectory(dataDir), { mapSizeBytes });
  const member = singleMember({ backend, log: new BackendRaftLog(backend) });
  for (let i = 0; i < count; i++) await put(member, `k/${String(i).padStart(3, '0')}`, `v${i}`);
  const written = values(member.driver);
  member.driver.stop();
  // The previous version's applies were durable; this driver's are not: make them so, as it did.
  backend.writeSync(() => undefined, { durable: true });
  const old = new RaftLogStore(backend);
  expect(old.holdsRaftRecords()).toBe(true);
  expect(old.load().snapshot?.meta.index).toBeGreaterThan(1);
  backend.close();
  return written;
}

describe('migrating a data directory from the previous format to the WAL', () => {
  let dataDir = '';
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('opens a directory of the previous format, keeps every key, and restarts again', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kubus-migrate-'));
    const written = await writeOldFormat(dataDir, 45);
    const lines: string[] = [];

    let storage = openMemberStorage(dataDir, { mapSizeBytes, logger: recordingLogger(lines) });
    expect(lines.filter((line) => line.startsWith('migrated the Raft log of'))).toHaveLength(1);
    expect(existsSync(walDirectory(dataDir))).toBe(true);
    expect(new RaftLogStore(storage.backend).holdsRaftRecords()).toBe(false);
    let member = singleMember(storage);
    expect(values(member.driver)).toEqual(written);
    await put(member, 'k/new', 'after');
    member.driver.stop();
    closeStorage(storage);

    storage = openMemberStorage(dataDir, { mapSizeBytes, logger: recordingLogger(lines) });
    expect(lines.filter((line) => line.includes('the Raft log of'))).toHaveLength(1);
    member = singleMember(storage);
    expect(values(member.driver)).toEqual({ ...written, 'k/new': 'after' });
    member.driver.stop();
    closeStorage(storage);
  });

  it('an interrupted migration is redone (a staging directory left) or finished (the WAL in place, old records left)', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kubus-migrate-'));
    const written = await writeOldFormat(dataDir, 30);
    // Interrupted while writing: a half-written staging directory.
    mkdirSync(join(dataDir, 'wal.migrating'));
    const lines: string[] = [];
    let storage = openMemberStorage(dataDir, { mapSizeBytes, logger: recordingLogger(lines) });
    expect(readdirSync(dataDir).sort()).toEqual(['state-machine.json', 'store', 'wal']);
    let member = singleMember(storage);
    expect(values(member.driver)).toEqual(written);
    member.driver.stop();
    closeStorage(storage);

    // Interrupted after the rename, before the old records were removed: they are back.
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir);
    const again = await writeOldFormat(dataDir, 30);
    storage = openMemberStorage(dataDir, { mapSizeBytes });
    closeStorage(storage);
    const backend = LmdbBackend.open(stateMachineDirectory(dataDir), { mapSizeBytes });
    const restoredOld = await writeOldFormatInto(backend);
    backend.close();
    storage = openMemberStorage(dataDir, { mapSizeBytes, logger: recordingLogger(lines) });
    expect(lines.some((line) => line.startsWith('finished an interrupted migration of'))).toBe(true);
    expect(new RaftLogStore(storage.backend).holdsRaftRecords()).toBe(false);
    member = singleMember(storage);
    expect(values(member.driver)).toEqual(again);
    expect(restoredOld).toBe(true);
    member.driver.stop();
    closeStorage(storage);
  });
});

/** Puts a stale record of the previous format back into a migrated store (what step 3 would have removed). */
async function writeOldFormatInto(backend: LmdbBackend): Promise<boolean> {
  const old = new RaftLogStore(backend);
  backend.writeSync(() => old.save({ hardState: { term: 1, vote: null, commit: 1 }, entries: [], snapshot: null }));
  return old.holdsRaftRecords();
}
