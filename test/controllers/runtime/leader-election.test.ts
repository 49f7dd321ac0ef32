/**
 * Leader election on a fake API with a simulated clock (Kubernetes' timing: lease 15 s, renew
 * deadline 10 s, retry 2 s). Two candidates: exactly one leads and keeps the Lease while it
 * renews; cut off from the API, the leader stops its loops (leader.stopped) strictly before the
 * other starts (leader.started), and the other (watching the Lease) starts one lease duration
 * after the leader's last renew; a clean stop releases the Lease so the other takes over within one retry
 * period. The pure decision (decideLease) is tested on its own first.
 */
import { describe, expect, test } from 'vitest';
import { createActor } from 'xstate';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { SimulatedClock, createJsonLogger } from '../../../bus/index.js';
import { decideLease, leaseSpecFor, microTime } from '../../../actors/controllers/runtime/lease-decision.js';
import { checkLeaderElectionTiming, defaultLeaderElectionTiming, leaderElectionMachine } from '../../../actors/controllers/runtime/leader-election.js';
import { refs } from '../../../actors/controllers/runtime/resource-refs.js';
import type { ApiClient } from '../../../actors/controllers/runtime/types.js';
import { FakeApi, settle } from './fake-api.js';

const logger = createJsonLogger({ level: 'error', write: () => undefined });

function lease(holder: string, renewTime = 't1', duration = 15): Lease {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'x' }, spec: { holderIdentity: holder, leaseDurationSeconds: duration, renewTime } };
}

describe('decideLease', () => {
  test('no Lease: create; ours: renew; released: acquire', () => {
    expect(decideLease(null, { identity: 'a', nowMs: 0, observed: null }).decision).toEqual({ kind: 'create' });
    expect(decideLease(lease('a'), { identity: 'a', nowMs: 0, observed: null }).decision).toEqual({ kind: 'renew' });
    expect(decideLease(lease(''), { identity: 'a', nowMs: 0, observed: null }).decision).toEqual({ kind: 'acquire' });
  });

  test('another holder: expired only after its record is seen unchanged for the lease duration, on our clock', () => {
    const first = decideLease(lease('b', 't1'), { identity: 'a', nowMs: 1_000, observed: null });
    expect(first.decision).toEqual({ kind: 'wait', holder: 'b', expiresAtMs: 16_000 });
    const still = decideLease(lease('b', 't1'), { identity: 'a', nowMs: 15_999, observed: first.observed });
    expect(still.decision.kind).toBe('wait');
    expect(decideLease(lease('b', 't1'), { identity: 'a', nowMs: 16_000, observed: first.observed }).decision).toEqual({ kind: 'acquire' });
    // A renew (new record) restarts the count from when we see it, whatever time it names.
    const renewed = decideLease(lease('b', 't0-written-by-a-slow-clock'), { identity: 'a', nowMs: 15_999, observed: first.observed });
    expect(renewed.decision).toEqual({ kind: 'wait', holder: 'b', expiresAtMs: 30_999 });
  });

  test('a try that read an older record than the watch saw does not restart the count', () => {
    const watched = decideLease({ ...lease('b', 't2'), metadata: { name: 'x', resourceVersion: '12' } }, { identity: 'a', nowMs: 4_000, observed: null });
    const staleRead = decideLease({ ...lease('b', 't1'), metadata: { name: 'x', resourceVersion: '10' } }, { identity: 'a', nowMs: 6_000, observed: watched.observed });
    expect(staleRead.observed).toBe(watched.observed);
    expect(staleRead.decision).toEqual({ kind: 'wait', holder: 'b', expiresAtMs: 19_000 });
  });

  test('taking over counts a transition and keeps acquireTime on renew', () => {
    const now = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
    expect(microTime(now)).toBe('2026-01-02T03:04:05.678000Z');
    const taken = leaseSpecFor('acquire', { ...lease('b'), spec: { ...lease('b').spec, leaseTransitions: 4 } }, { identity: 'a', leaseDurationSeconds: 15, now });
    expect(taken).toEqual({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: '2026-01-02T03:04:05.678000Z', renewTime: '2026-01-02T03:04:05.678000Z', leaseTransitions: 5 });
    const renewed = leaseSpecFor('renew', { ...lease('a'), spec: taken }, { identity: 'a', leaseDurationSeconds: 15, now: new Date(now.getTime() + 2_000) });
    expect(renewed.acquireTime).toBe(taken.acquireTime);
    expect(renewed.leaseTransitions).toBe(5);
    expect(renewed.renewTime).toBe('2026-01-02T03:04:07.678000Z');
  });

  test('timing checks: lease > renew deadline > 1.2 × retry', () => {
    expect(() => checkLeaderElectionTiming(defaultLeaderElectionTiming)).not.toThrow();
    expect(() => checkLeaderElectionTiming({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).toThrow(/greater than the renew deadline/);
    expect(() => checkLeaderElectionTiming({ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toThrow(/1.2/);
  });
});

/** A candidate's own path to the shared fake API, which the test can cut. */
function viewOf(api: FakeApi): { client: ApiClient; cut: { down: boolean } } {
  const cut = { down: false };
  const client = new Proxy(api, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (cut.down ? Promise.reject(new Error('partitioned')) : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return { client: client as ApiClient, cut };
}

describe('leader election between two candidates', () => {
  function setup() {
    const clock = new SimulatedClock();
    const api = new FakeApi();
    const log: string[] = [];
    const at: Record<string, number[]> = {};
    const candidate = (identity: string) => {
      const view = viewOf(api);
      const actor = createActor(leaderElectionMachine, {
        clock,
        input: { api: view.client, name: 'kube-controller-manager', identity, timing: defaultLeaderElectionTiming, clock, wallClock: () => new Date(1_700_000_000_000 + clock.now()), logger },
      });
      actor.on('leader.started', () => {
        log.push(`${clock.now()} ${identity} started`);
        (at[`${identity} started`] ??= []).push(clock.now());
      });
      actor.on('leader.stopped', ({ reason }) => {
        log.push(`${clock.now()} ${identity} stopped ${reason}`);
        (at[`${identity} stopped`] ??= []).push(clock.now());
      });
      actor.start();
      return { actor, cut: view.cut };
    };
    const run = async (ms: number, stepMs = 10): Promise<void> => {
      for (let t = 0; t < ms; t += stepMs) {
        clock.advance(stepMs);
        await settle();
      }
    };
    const holder = async () => (await api.get<Lease>(refs.leases, 'kube-system', 'kube-controller-manager')).spec?.holderIdentity;
    return { clock, api, log, at, candidate, run, holder };
  }

  test('one leads and keeps leading while it renews; the other never starts', async () => {
    const h = setup();
    h.candidate('a');
    await settle();
    h.candidate('b');
    await h.run(60_000);
    expect(h.log).toEqual(['0 a started']);
    expect(await h.holder()).toBe('a');
    const renews = h.api.calls.filter((c) => c === 'update leases kube-system/kube-controller-manager').length;
    expect(renews).toBe(30); // one per 2 s retry period
  });

  test('a leader cut off from the API stops before the other starts, and the other starts within lease + retry of the last renew', async () => {
    const h = setup();
    const a = h.candidate('a');
    await settle();
    h.candidate('b');
    await h.run(10_005);
    const lastRenewMs = 10_000; // renews at 2 s, 4 s, ... 10 s
    a.cut.down = true;
    await h.run(30_000);
    const stoppedA = h.at['a stopped']?.[0] as number;
    const startedB = h.at['b started']?.[0] as number;
    expect(h.log).toEqual([`0 a started`, `${stoppedA} a stopped renewDeadline`, `${startedB} b started`]);
    expect(stoppedA).toBe(lastRenewMs + defaultLeaderElectionTiming.renewDeadlineMs);
    expect(stoppedA).toBeLessThan(startedB);
    expect(startedB - lastRenewMs).toBeGreaterThanOrEqual(defaultLeaderElectionTiming.leaseDurationMs);
    // b watches the Lease: it saw the last renew as it was written, so it takes over one lease duration later, not a retry period more.
    expect(startedB - lastRenewMs).toBeLessThanOrEqual(defaultLeaderElectionTiming.leaseDurationMs + 20);
    const record = await h.api.get<Lease>(refs.leases, 'kube-system', 'kube-controller-manager');
    expect(record.spec?.holderIdentity).toBe('b');
    expect(record.spec?.leaseTransitions).toBe(1);
    // Back on the API, a finds b holding the Lease and stays a candidate.
    a.cut.down = false;
    await h.run(20_000);
    expect(h.log).toHaveLength(3);
  });

  test('a leader that finds another holder on renew stops at once', async () => {
    const h = setup();
    h.candidate('a');
    await settle();
    await h.run(1_000);
    const current = await h.api.get<Lease>(refs.leases, 'kube-system', 'kube-controller-manager');
    await h.api.update(refs.leases, 'kube-system', 'kube-controller-manager', { ...current, spec: { ...current.spec, holderIdentity: 'intruder' } });
    await h.run(2_000);
    expect(h.log).toEqual(['0 a started', '2000 a stopped lostToOther']);
  });

  test('a clean stop releases the Lease: the other takes over within one retry period', async () => {
    const h = setup();
    const a = h.candidate('a');
    await settle();
    h.candidate('b');
    await h.run(5_000);
    a.actor.send({ type: 'leader.stop' });
    await settle();
    expect(a.actor.getSnapshot().status).toBe('done');
    expect(await h.holder()).toBe('');
    const stoppedAt = h.clock.now();
    await h.run(3_000);
    const startedB = h.at['b started']?.[0] as number;
    expect(startedB - stoppedAt).toBeLessThanOrEqual(defaultLeaderElectionTiming.retryPeriodMs);
    expect(await h.holder()).toBe('b');
  });

  test('two candidates racing for a released Lease: exactly one wins (the other gets 409)', async () => {
    const h = setup();
    await h.api.create(refs.leases, 'kube-system', { ...lease(''), metadata: { name: 'kube-controller-manager', namespace: 'kube-system' } });
    h.candidate('a');
    h.candidate('b');
    await h.run(10_000);
    expect(h.log).toHaveLength(1);
  });
});
