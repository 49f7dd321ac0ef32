/**
 * Leader election of the control-plane components on a 3-member cluster of real processes (lease
 * 3 s, renew deadline 2 s, retry 500 ms, the harness's values). Every member runs the scheduler
 * and the controller manager; s3 runs with --no-scheduler. A watch on kube-system Leases records
 * every holder the test sees, with the time it saw it.
 *
 * - Both Leases get exactly one holder; s3 never holds kube-scheduler, at any moment.
 * - kill -9 of the scheduler's holder (also of the controller manager's, when the same member
 *   holds both): the Leases move to a live member, whose log says its loops are active, within
 *   lease duration + retry period of the kill (timestamps from the member logs and the test's
 *   clock, one machine); leaseTransitions counts the handover.
 * - kill -9 of the controller manager's holder, after the first victim is back: the same.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi, memberOfIdentity, waitForLeaseHolder } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';
import { SharedInformerFactory, refs } from '../../actors/controllers/runtime/index.js';
import { SystemClock, createJsonLogger } from '../../bus/index.js';
import { defaultRaftTiming } from '../../store/index.js';
import type { KubeObject } from '../../actors/objects/meta.js';

const leaseDurationMs = 3_000;
const retryPeriodMs = 500;
/** The store's longest election: its randomized timeout is at most twice `electionTicks × tickMs` (store/driver-limits.ts). */
const storeElectionMaxMs = 2 * defaultRaftTiming.electionTicks * defaultRaftTiming.tickMs;
const run = requireComponent('nats-server', 'apt-get install nats-server');

describe.runIf(run)('leader election of the scheduler and the controller manager', () => {
  let h: ApiHarness;
  let informers: SharedInformerFactory | null = null;
  /** Every holder seen, in order: `[lease, identity, seenAtMs]`. */
  const seen: [string, string, number][] = [];

  beforeAll(async () => {
    h = await startApiHarness({ memberArgs: { s3: ['--no-scheduler'] } });
    // A shared informer: its watch resumes when the member serving it is killed.
    informers = new SharedInformerFactory({ api: adminApi(h), clock: new SystemClock(), logger: createJsonLogger({ level: 'error' }) });
    const note = (lease: Lease): void => {
      if (lease.metadata?.namespace !== 'kube-system') return;
      const holder = lease.spec?.holderIdentity ?? '';
      const last = [...seen].reverse().find(([name]) => name === lease.metadata?.name);
      if (last?.[1] !== holder) seen.push([lease.metadata?.name as string, holder, Date.now()]);
    };
    informers.informer<Lease & KubeObject>(refs.leases).addHandlers({ onAdd: note, onUpdate: (_, lease) => note(lease) });
    informers.start();
    await informers.waitForSync(10_000);
  });

  afterAll(async () => {
    if (process.env['H1_KEEP_LOGS'] !== undefined) (await import('node:child_process')).execSync(`rm -rf /tmp/h1-logs; cp -r ${h.dir}/cluster/logs /tmp/h1-logs`);
    informers?.stop();
    await h?.stop();
  });

  /** The wall time (ms) at which `member` logged its `component` loops active, after `afterMs`. */
  function activeAt(member: string, component: string, afterMs: number): number | null {
    const lines = readFileSync(h.cluster.logPath(member), 'utf8').split('\n');
    for (const line of lines) {
      if (!line.includes('"controllers active"') || !line.includes(`"component":"${component}"`)) continue;
      const record = JSON.parse(line) as { activeAt: string };
      const at = Date.parse(record.activeAt);
      if (at > afterMs) return at;
    }
    return null;
  }

  async function killHolderAndCheck(lease: 'kube-scheduler' | 'kube-controller-manager'): Promise<void> {
    const api = adminApi(h);
    const holderOf = async (name: string) => (await api.get<Lease>(refs.leases, 'kube-system', name)).spec;
    const before = { scheduler: await holderOf('kube-scheduler'), manager: await holderOf('kube-controller-manager') };
    const victimIdentity = (lease === 'kube-scheduler' ? before.scheduler : before.manager)?.holderIdentity as string;
    const victim = memberOfIdentity(victimIdentity);
    const moving = (['kube-scheduler', 'kube-controller-manager'] as const).filter((name) =>
      memberOfIdentity((name === 'kube-scheduler' ? before.scheduler : before.manager)?.holderIdentity ?? '') === victim);
    // No Lease can be written while the store has no leader: when the victim also led the store, the
    // store's own election (at most twice its election timeout) comes before any takeover can.
    const storeLeader = await h.cluster.waitForLeader({ timeoutMs: 10_000 });
    const bound = leaseDurationMs + retryPeriodMs + (storeLeader === victim ? storeElectionMaxMs : 0);
    const killedAt = Date.now();
    h.cluster.kill(victim);
    for (const name of moving) {
      const was = name === 'kube-scheduler' ? before.scheduler : before.manager;
      const next = await waitForLeaseHolder(h, name, { not: was?.holderIdentity as string, timeoutMs: 15_000 });
      const member = memberOfIdentity(next);
      expect(member).not.toBe(victim);
      const active = await waitUntil(`${member}'s ${name} loops active`, () => activeAt(member, name, killedAt), { timeoutMs: 10_000, intervalMs: 50 });
      const takeoverMs = active - killedAt;
      process.stdout.write(`${name}: ${victim} killed; ${member} active after ${takeoverMs} ms (bound ${bound} ms; store leader ${storeLeader})\n`);
      expect(takeoverMs).toBeGreaterThan(0);
      expect(takeoverMs).toBeLessThanOrEqual(bound);
      const after = await holderOf(name);
      expect(after?.leaseTransitions).toBe((was?.leaseTransitions ?? 0) + 1);
    }
  }

  test('each Lease has one holder; the --no-scheduler member holds only the controller manager\'s, if any', async () => {
    const scheduler = await waitForLeaseHolder(h, 'kube-scheduler');
    const manager = await waitForLeaseHolder(h, 'kube-controller-manager');
    expect(['s1', 's2']).toContain(memberOfIdentity(scheduler));
    expect(['s1', 's2', 's3']).toContain(memberOfIdentity(manager));
    // s3 runs no scheduler: its log says nothing of the scheduler's loops.
    expect(readFileSync(h.cluster.logPath('s3'), 'utf8')).not.toContain('"component":"kube-scheduler"');
  });

  test('kill -9 of the scheduler\'s holder: its Leases move and the new holder\'s loops are active within lease + retry', async () => {
    await killHolderAndCheck('kube-scheduler');
  });

  test('kill -9 of the controller manager\'s holder, with the first victim back: the same', async () => {
    const dead = h.cluster.memberIds.filter((id) => !h.cluster.isRunning(id));
    for (const id of dead) {
      await h.cluster.restart(id);
      await h.waitReady(id);
    }
    await killHolderAndCheck('kube-controller-manager');
  });

  test('s3 (--no-scheduler) never held kube-scheduler, at any moment the watch saw', () => {
    const schedulerHolders = seen.filter(([name, holder]) => name === 'kube-scheduler' && holder !== '').map(([, holder]) => memberOfIdentity(holder));
    expect(schedulerHolders.length).toBeGreaterThanOrEqual(1);
    expect(schedulerHolders.filter((member) => member === 's3')).toEqual([]);
  });
});
