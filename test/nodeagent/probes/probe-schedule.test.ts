/**
 * What this proves: the prober's schedule on a SimulatedClock — nothing is probed before
 * initialDelaySeconds, attempts come every periodSeconds, the result flips only after
 * successThreshold / failureThreshold consecutive outcomes, a liveness failure puts the probe on
 * hold, liveness and readiness wait for the startup probe, a container without a readiness probe
 * is ready at once, stop() ends probing; lifecycle hooks run once (exec, httpGet, sleep).
 * How: a fake runtime whose exec results the test scripts, one per attempt, and a log of when
 * each attempt happened; time is advanced in small steps with the microtasks run in between.
 */
import { describe, expect, it } from 'vitest';
import type { Container, Probe } from 'kubernetes-types/core/v1.js';
import { SimulatedClock } from '../../../bus/clock.js';
import { createJsonLogger } from '../../../bus/logger.js';
import type { ContainerRuntime } from '../../../nodeagent/runtime/types.js';
import type { ProbeTarget, ProbeTransition } from '../../../nodeagent/agent-context.js';
import { createProber, observeProbe, initialProbeResult } from '../../../nodeagent/probes/index.js';

const logger = createJsonLogger({ level: 'error', write: () => undefined });

/** exec results by the command's first word: a script of exit codes consumed per attempt (last repeats). */
function scriptedRuntime(clock: SimulatedClock, scripts: Record<string, number[]>, attempts: string[]): ContainerRuntime {
  return {
    execSync: async (_id: string, command: readonly string[]) => {
      const name = command[0] ?? '';
      attempts.push(`${clock.now()} ${name}`);
      const script = scripts[name] ?? [0];
      const exitCode = script.length > 1 ? (script.shift() as number) : (script[0] ?? 0);
      return { exitCode, stdout: new Uint8Array(), stderr: new Uint8Array(), timedOut: false };
    },
  } as unknown as ContainerRuntime;
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

async function advance(clock: SimulatedClock, totalMs: number, stepMs = 500): Promise<void> {
  await flush();
  for (let elapsed = 0; elapsed < totalMs; elapsed += stepMs) {
    clock.advance(stepMs);
    await flush();
  }
}

const exec = (name: string, extra: Partial<Probe> = {}): Probe => ({ exec: { command: [name] }, ...extra });

function setUp(container: Container, scripts: Record<string, number[]>) {
  const clock = new SimulatedClock();
  const attempts: string[] = [];
  const transitions: string[] = [];
  const prober = createProber({ runtime: scriptedRuntime(clock, scripts, attempts), clock, logger });
  const target: ProbeTarget = { pod: { metadata: { name: 'p', uid: 'u' } }, podIp: '127.0.0.1', container, containerId: 'c1', startedAtMs: 0 };
  const handle = prober.start(target, (t: ProbeTransition) => transitions.push(`${clock.now()} ${t.kind} ${t.healthy ? 'up' : 'down'}`));
  return { clock, attempts, transitions, handle, prober, target };
}

describe('observeProbe', () => {
  it('needs consecutive outcomes to flip and holds liveness after a failure', () => {
    const thresholds = { successThreshold: 2, failureThreshold: 2, kind: 'liveness' as const };
    let state = initialProbeResult('liveness');
    expect(state.result).toBe('success');
    let step = observeProbe(state, 'failure', thresholds);
    expect(step.changed).toBe(false);
    step = observeProbe(step.state, 'success', thresholds);
    step = observeProbe(step.state, 'failure', thresholds);
    expect(step.changed).toBe(false);
    step = observeProbe(step.state, 'failure', thresholds);
    expect(step).toMatchObject({ changed: true, state: { result: 'failure', done: true } });
    state = step.state;
    expect(observeProbe(state, 'success', thresholds).changed).toBe(false);
  });
});

describe('prober schedule', () => {
  it('waits the initial delay, then probes each period; readiness flips after successThreshold', async () => {
    const { clock, attempts, transitions, handle } = setUp({ name: 'app', readinessProbe: exec('ready', { initialDelaySeconds: 5, periodSeconds: 10, successThreshold: 2 }) }, { ready: [0] });
    await advance(clock, 4_500);
    expect(attempts).toEqual([]);
    await advance(clock, 30_000);
    expect(attempts.slice(0, 3)).toEqual(['5000 ready', '15000 ready', '25000 ready']);
    expect(transitions).toEqual(['15000 readiness up']);
    handle.stop();
  });

  it('reports liveness down after failureThreshold failures and stops probing it', async () => {
    const { clock, attempts, transitions, handle } = setUp({
      name: 'app',
      livenessProbe: exec('alive', { periodSeconds: 10, failureThreshold: 3 }),
    }, { alive: [0, 1, 1, 0, 1, 1, 1, 1] });
    await advance(clock, 100_000);
    // ok, fail, fail, ok (resets the run), fail, fail, fail → down at the 7th attempt (t = 60 s).
    expect(transitions).toEqual(['0 readiness up', '60000 liveness down']);
    expect(attempts).toHaveLength(7);
    handle.stop();
  });

  it('gates liveness and readiness on the startup probe', async () => {
    const { clock, attempts, transitions, handle } = setUp({
      name: 'app',
      startupProbe: exec('started', { periodSeconds: 5, failureThreshold: 10 }),
      livenessProbe: exec('alive', { periodSeconds: 10 }),
      readinessProbe: exec('ready', { periodSeconds: 10 }),
    }, { started: [1, 1, 0], alive: [0], ready: [0] });
    await advance(clock, 9_500);
    expect(attempts.every((a) => a.endsWith('started'))).toBe(true);
    await advance(clock, 20_000);
    expect(transitions.slice(0, 2)).toEqual(['10000 startup up', '10000 readiness up']);
    expect(attempts).toContain('10000 alive');
    expect(attempts.filter((a) => a.endsWith('started'))).toHaveLength(3);
    handle.stop();
  });

  it('reports a failed startup and never runs liveness', async () => {
    const { clock, attempts, transitions, handle } = setUp({
      name: 'app',
      startupProbe: exec('started', { periodSeconds: 1, failureThreshold: 3 }),
      livenessProbe: exec('alive'),
    }, { started: [1] });
    await advance(clock, 10_000);
    expect(transitions).toEqual(['2000 startup down']);
    expect(attempts.some((a) => a.endsWith('alive'))).toBe(false);
    handle.stop();
  });

  it('counts the initial delay from the container start and stops on stop()', async () => {
    const clock = new SimulatedClock();
    clock.advance(8_000);
    const attempts: string[] = [];
    const prober = createProber({ runtime: scriptedRuntime(clock, {}, attempts), clock, logger });
    const handle = prober.start({ pod: {}, podIp: null, container: { name: 'a', readinessProbe: exec('ready', { initialDelaySeconds: 10, periodSeconds: 10 }) }, containerId: 'c', startedAtMs: 5_000 }, () => undefined);
    await advance(clock, 6_500);
    expect(attempts).toEqual([]);
    await advance(clock, 500);
    expect(attempts).toEqual(['15000 ready']);
    handle.stop();
    await advance(clock, 30_000);
    expect(attempts).toHaveLength(1);
  });
});

describe('start times in wall milliseconds', () => {
  it('counts the initial delay from an epoch start time against the wall clock', async () => {
    const clock = new SimulatedClock();
    const attempts: string[] = [];
    const wallStart = Date.parse('2026-12-03T04:00:00Z');
    const prober = createProber({ runtime: scriptedRuntime(clock, {}, attempts), clock, logger, wallClock: () => new Date(wallStart + 4_000 + clock.now()) });
    const handle = prober.start({ pod: {}, podIp: null, container: { name: 'a', livenessProbe: exec('alive', { initialDelaySeconds: 10 }) }, containerId: 'c', startedAtMs: wallStart }, () => undefined);
    await advance(clock, 5_500);
    expect(attempts).toEqual([]);
    await advance(clock, 500);
    expect(attempts).toEqual(['6000 alive']);
    handle.stop();
  });
});

describe('hooks', () => {
  it('runs exec and sleep hooks once, bounded', async () => {
    const { prober, target, clock, attempts } = setUp({ name: 'app' }, { stop: [0], bad: [3] });
    expect(await prober.runHook({ exec: { command: ['stop'] } }, target, 5_000)).toMatchObject({ ok: true });
    expect(await prober.runHook({ exec: { command: ['bad'] } }, target, 5_000)).toMatchObject({ ok: false, message: 'command exited with 3' });
    expect(attempts.map((a) => a.split(' ')[1])).toEqual(['stop', 'bad']);
    let slept = false;
    const sleeping = prober.runHook({ sleep: { seconds: 30 } }, target, 5_000).then((r) => { slept = r.ok; });
    await advance(clock, 4_500);
    expect(slept).toBe(false);
    await advance(clock, 1_000);
    await sleeping;
    expect(slept).toBe(true);
    expect((await prober.runHook({ tcpSocket: { port: 1 } }, target, 1_000)).ok).toBe(false);
  });
});
