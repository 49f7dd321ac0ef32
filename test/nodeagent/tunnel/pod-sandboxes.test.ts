/**
 * The far end's view of its pods (nodeagent/tunnel/pod-sandboxes.ts): a fresh list is reused for
 * targets it contains, a target it lacks is checked against a new list (a pod that just started is
 * not refused), an old list is not trusted, and opens arriving together share one runtime call.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../bus/index.js';
import { PodSandboxView } from '../../../nodeagent/tunnel/pod-sandboxes.js';
import type { PodSandboxStatus } from '../../../nodeagent/runtime/types.js';

const sandbox = (ip: string): PodSandboxStatus => ({ id: ip, podUid: ip, state: 'ready', ip, createdAtMs: 0, labels: {} });
const target = (address: string) => ({ node: 'b', address, port: 80, protocol: 'TCP' as const });

describe('pod sandbox view', () => {
  it('reuses a fresh list for known pods, relists for unknown ones and when old, shares concurrent calls', async () => {
    const clock = new SimulatedClock();
    let pods = [sandbox('127.64.0.2')];
    let calls = 0;
    const view = new PodSandboxView({ listPodSandboxes: async () => { calls++; return pods; } }, { clock, freshMs: 1_000 });
    expect(await view.decide(target('127.64.0.2'))).toMatchObject({ accept: true });
    expect(await view.decide(target('127.64.0.2'))).toMatchObject({ accept: true });
    expect(calls).toBe(1);
    // A pod that just started: not in the cached list, so listed again, and accepted.
    pods = [...pods, sandbox('127.64.0.3')];
    expect(await view.decide(target('127.64.0.3'))).toMatchObject({ accept: true });
    expect(calls).toBe(2);
    expect(await view.decide(target('127.64.0.9'))).toMatchObject({ accept: false, reason: 'notAPod' });
    expect(calls).toBe(3);
    // An old list is not trusted, even for a pod it contains.
    pods = [];
    clock.advance(1_000);
    expect(await view.decide(target('127.64.0.2'))).toMatchObject({ accept: false, reason: 'notAPod' });
    expect(calls).toBe(4);
    const together = await Promise.all([view.decide(target('127.64.0.5')), view.decide(target('127.64.0.6'))]);
    expect(together.map((d) => d.accept)).toEqual([false, false]);
    expect(calls).toBe(5);
  });
});
