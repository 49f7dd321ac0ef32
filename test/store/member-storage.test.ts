/**
 * A member's state machine (LMDB, opened noSync) is trusted after a killed process or a graceful
 * stop, and set aside and rebuilt from the WAL after the machine went down under a running member
 * (an unclean stop under another boot id): store/member-storage.ts.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Prng } from '../../bus/prng.js';
import { SimulatedClock } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import { closeStorage, type MemberStorage } from '../../store/member-machine.js';
import { openMemberStorage, stateMachineDirectory } from '../../store/member-storage.js';
import { RaftDriver } from '../../store/raft-driver.js';
import { readAppliedIndex } from '../../store/raft-log-store.js';

const mapSizeBytes = 64 * 1024 * 1024;
const timing = { tickMs: 50, electionTicks: 10, heartbeatTicks: 1 };

function logger(lines: string[]): Logger {
  const self: Logger = {
    debug: () => undefined,
    info: (message) => void lines.push(message),
    warn: (message) => void lines.push(message),
    error: (message) => void lines.push(message),
    child: () => self,
  };
  return self;
}

async function runMember(storage: MemberStorage, writes: number): Promise<RaftDriver> {
  const clock = new SimulatedClock();
  const deferred: (() => void)[] = [];
  const flush = (): void => {
    for (let round = 0; deferred.length > 0 && round < 1000; round++) deferred.splice(0).forEach((fn) => fn());
  };
  const driver = new RaftDriver({
    self: 's1', initialMembers: ['s1'], backend: storage.backend, log: storage.log, clock, random: new Prng(2), timing,
    send: () => undefined, snapshotEveryEntries: 10, defer: (fn) => deferred.push(fn),
  });
  for (let i = 0; i < 100 && !driver.isLeader(); i++) {
    clock.advance(timing.tickMs);
    driver.tick();
    flush();
  }
  for (let i = 0; i < writes; i++) {
    const done = driver.write({ type: 'put', request: { key: `k/${String(i).padStart(3, '0')}`, value: new TextEncoder().encode(`v${i}`) } }, null);
    for (let round = 0; round < 10; round++) {
      flush();
      await Promise.resolve();
    }
    await done;
  }
  return driver;
}

const keys = (driver: RaftDriver): string[] => driver.mvcc.range({ key: 'k/', end: 'k0' }).kvs.map((kv) => kv.key);

/** A process that died: nothing closed, nothing marked clean. */
function die(storage: MemberStorage, driver: RaftDriver): void {
  driver.stop();
  storage.log.close();
  storage.backend.close();
}

describe('opening a member data directory after an unclean stop', () => {
  let dataDir = '';
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('trusts the state machine after a killed process on the same boot', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kubus-storage-'));
    let storage = openMemberStorage(dataDir, { mapSizeBytes, bootId: 'boot-a' });
    const driver = await runMember(storage, 15);
    const written = keys(driver);
    die(storage, driver);
    const lines: string[] = [];
    storage = openMemberStorage(dataDir, { mapSizeBytes, bootId: 'boot-a', logger: logger(lines) });
    expect(readAppliedIndex(storage.backend.table('meta'))).toBeGreaterThan(15);
    expect(lines).toEqual([]);
    const again = await runMember(storage, 0);
    expect(keys(again)).toEqual(written);
    again.stop();
    closeStorage(storage);
  });

  it('sets the state machine aside and rebuilds it from the WAL after the machine went down', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'kubus-storage-'));
    let storage = openMemberStorage(dataDir, { mapSizeBytes, bootId: 'boot-a' });
    const driver = await runMember(storage, 25);
    const written = keys(driver);
    die(storage, driver);
    const lines: string[] = [];
    storage = openMemberStorage(dataDir, { mapSizeBytes, bootId: 'boot-b', logger: logger(lines) });
    expect(lines.some((line) => line.startsWith('the machine went down while this member ran'))).toBe(true);
    expect(existsSync(`${stateMachineDirectory(dataDir)}.discarded`)).toBe(true);
    expect(readAppliedIndex(storage.backend.table('meta'))).toBe(0);
    const rebuilt = await runMember(storage, 0);
    expect(keys(rebuilt)).toEqual(written);
    rebuilt.stop();
    closeStorage(storage);

    // A graceful stop is trusted under any boot id.
    const graceful: string[] = [];
    storage = openMemberStorage(dataDir, { mapSizeBytes, bootId: 'boot-c', logger: logger(graceful) });
    expect(graceful).toEqual([]);
    expect(readAppliedIndex(storage.backend.table('meta'))).toBeGreaterThan(25);
    closeStorage(storage);
  });
});
