/**
 * The node agent's prober: per container instance, a startup probe first (when there is one),
 * then liveness and readiness, each a probe-worker actor on the injected clock; lifecycle hooks
 * (postStart, preStop) as single bounded runs.
 *
 * Decision: `initialDelaySeconds` counts from `startedAtMs` (epoch milliseconds, read against the
 * wall clock, or the prober's monotonic clock's time: told apart by size); a start further back
 * than the delay (an adopted container) means "the delay is over", and one in the future is clamped
 * to the delay, so clock skew never postpones probing past one initial delay. Without a readiness probe the container is reported
 * ready as soon as the startup gate opens (at once when there is no startup probe).
 */
import { createActor, type AnyActorRef } from 'xstate';
import type { LifecycleHandler, Probe } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import type { Prober, ProbeTarget, ProbeTransition } from '../agent-context.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { probeLimits } from './limits.js';
import { runExecAction, runHttpGetAction, runSleepAction, runTcpSocketAction, type ActionContext, type ActionResult } from './probe-actions.js';
import type { ProbeKind } from './probe-result.js';
import { runGrpcAction } from './grpc-health.js';
import { probeWorkerMachine } from './probe-worker.js';

export interface ProberOptions {
  readonly runtime: ContainerRuntime;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Wall time, for `startedAtMs` given as epoch milliseconds (what runtimes report); `new Date()` by default. */
  readonly wallClock?: () => Date;
}

/**
 * Epoch milliseconds are above this (2001-09-09); the monotonic clock (process uptime, or a
 * simulation starting at 0) stays far below it. Lets `startedAtMs` be either, as callers have it.
 */
const epochMsMin = 1e12;

/** A probe's timing with Kubernetes' defaults applied. */
export function probeTiming(probe: Probe): { initialDelayMs: number; periodMs: number; timeoutMs: number; successThreshold: number; failureThreshold: number } {
  return {
    initialDelayMs: Math.max(0, probe.initialDelaySeconds ?? 0) * 1000,
    periodMs: Math.max(1, probe.periodSeconds ?? probeLimits.periodSecondsDefault) * 1000,
    timeoutMs: Math.max(1, probe.timeoutSeconds ?? probeLimits.timeoutSecondsDefault) * 1000,
    successThreshold: Math.max(1, probe.successThreshold ?? probeLimits.successThresholdDefault),
    failureThreshold: Math.max(1, probe.failureThreshold ?? probeLimits.failureThresholdDefault),
  };
}

export function createProber(options: ProberOptions): Prober {
  const { runtime, clock } = options;
  const logger = options.logger.child({ component: 'prober' });
  const wallClock = options.wallClock ?? (() => new Date());
  const sinceStart = (startedAtMs: number): number => (startedAtMs >= epochMsMin ? wallClock().getTime() : clock.now()) - startedAtMs;
  const actionContext = (target: ProbeTarget, timeoutMs: number): ActionContext => ({
    runtime, clock, timeoutMs, containerId: target.containerId, container: target.container, podIp: target.podIp,
  });

  const runOnce = (probe: Probe, target: ProbeTarget): Promise<ActionResult> => {
    const context = actionContext(target, probeTiming(probe).timeoutMs);
    if (probe.exec !== undefined) return runExecAction(probe.exec, context);
    if (probe.httpGet !== undefined) return runHttpGetAction(probe.httpGet, context);
    if (probe.tcpSocket !== undefined) return runTcpSocketAction(probe.tcpSocket, context);
    if (probe.grpc !== undefined) return runGrpcAction(probe.grpc, context);
    return Promise.resolve({ outcome: 'failure', message: 'the probe names no action (exec, httpGet, tcpSocket, grpc)' });
  };

  const start: Prober['start'] = (target, listener) => {
    const actors: AnyActorRef[] = [];
    let stopped = false;
    const emit = (transition: ProbeTransition): void => {
      if (stopped) return;
      try {
        listener(transition);
      } catch (error) {
        // A listener's failure must not stop the probe actor that called it.
        logger.error('probe listener failed', { pod: target.pod.metadata?.name, container: target.container.name, error: (error as Error).message });
      }
    };
    const startWorker = (kind: ProbeKind, probe: Probe): void => {
      const timing = probeTiming(probe);
      const sinceStartMs = sinceStart(target.startedAtMs);
      const initialDelayMs = Math.min(timing.initialDelayMs, Math.max(0, timing.initialDelayMs - sinceStartMs));
      const actor = createActor(probeWorkerMachine, {
        clock,
        input: {
          kind, initialDelayMs, periodMs: timing.periodMs, thresholds: timing, now: () => clock.now(),
          attempt: () => runOnce(probe, target),
          onChange: (changedKind, result, message) => {
            const healthy = result.result === 'success';
            logger.debug('probe result changed', { pod: target.pod.metadata?.name, container: target.container.name, kind: changedKind, healthy, message });
            emit({ kind: changedKind, healthy, message });
            if (changedKind === 'startup' && healthy) openGate();
          },
        },
      });
      actors.push(actor);
      actor.start();
    };
    const openGate = (): void => {
      if (stopped) return;
      const { livenessProbe, readinessProbe } = target.container;
      if (livenessProbe !== undefined) startWorker('liveness', livenessProbe);
      if (readinessProbe !== undefined) startWorker('readiness', readinessProbe);
      else emit({ kind: 'readiness', healthy: true, message: 'no readiness probe: ready once started' });
    };
    const startupProbe = target.container.startupProbe;
    // Deferred a microtask, so a listener hears nothing before start() has returned its handle.
    queueMicrotask(() => {
      if (stopped) return;
      if (startupProbe !== undefined) startWorker('startup', startupProbe);
      else openGate();
    });
    return {
      stop() {
        stopped = true;
        for (const actor of actors) actor.stop();
        actors.length = 0;
      },
    };
  };

  const runHook = async (handler: LifecycleHandler, target: ProbeTarget, timeoutMs: number): Promise<ActionResult & { ok: boolean }> => {
    const context = actionContext(target, timeoutMs);
    let result: ActionResult;
    if (handler.exec !== undefined) result = await runExecAction(handler.exec, context);
    else if (handler.httpGet !== undefined) result = await runHttpGetAction(handler.httpGet, context);
    else if (handler.sleep !== undefined) result = await runSleepAction(handler.sleep.seconds, context);
    else if (handler.tcpSocket !== undefined) result = { outcome: 'failure', message: 'tcpSocket lifecycle hooks are deprecated and not run (as in Kubernetes)' };
    else result = { outcome: 'failure', message: 'the hook names no action (exec, httpGet, sleep)' };
    return { ...result, ok: result.outcome === 'success' };
  };

  return { start, runHook, runOnce };
}
