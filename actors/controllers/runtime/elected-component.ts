/**
 * A leader-elected component (the controller manager, the scheduler): a leader-election actor on
 * its Lease and, for each term it leads, a fresh informer factory, event recorder and one
 * controller actor per enabled spec. Losing the Lease ends the term: the term's writes are fenced
 * at once (no write starts after), the controllers stop and the informers close. A new term starts
 * from fresh lists, so nothing of a previous term's view survives a gap in leadership.
 *
 * Decision: a candidate starts its next term's informers (not its reconcilers) as soon as the
 * holder is overdue (its Lease unchanged for longer than the renew deadline, so its loops have
 * stopped): the lists then run during the last part of the lease duration instead of after the
 * takeover, and the new leader's loops are active right after it acquires. They still list after
 * the old leader stopped writing. A holder that renews after all ends the warm term.
 */
import { createActor, waitFor, type ActorRefFrom } from 'xstate';
import type { Clock } from '../../../bus/clock.js';
import type { Bus } from '../../../bus/transport.js';
import type { Logger } from '../../../bus/logger.js';
import type { KubeObject } from '../../objects/meta.js';
import { controllerMachine } from './controller-actor.js';
import { ApiEventRecorder } from './event-recorder.js';
import { fencedApi } from './fenced-api.js';
import { SharedInformerFactory } from './informer-factory.js';
import { checkLeaderElectionTiming, leaderElectionMachine, type LeaderElectionTiming } from './leader-election.js';
import { checkRuntimeLimits, runtimeLimits } from './limits.js';
import { workersFor } from './controller-flags.js';
import { RateLimitedWorkQueue } from './work-queue.js';
import type { ApiClient, ControllerContext, ControllerSpec } from './types.js';

export interface ElectedComponentOptions {
  /** The Lease name and Event source: `kube-controller-manager`, `kube-scheduler`. */
  readonly name: string;
  /** The Event source component (`default-scheduler` for the scheduler, as Kubernetes writes it). */
  readonly eventComponent?: string;
  readonly specs: readonly ControllerSpec[];
  readonly api: ApiClient;
  readonly identity: string;
  readonly timing: LeaderElectionTiming;
  readonly clock: Clock;
  readonly wallClock: () => Date;
  readonly logger: Logger;
  readonly options: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Handed to loops that own a subject (ControllerContext.bus). */
  readonly bus?: Bus;
  readonly cluster?: string;
}

export interface ElectedComponent {
  isLeading(): boolean;
  /** Wall-clock ms when the current term's controllers were all running; null when not leading. */
  activeSince(): number | null;
  /** Stops the controllers, then releases the Lease (another member takes over at once). */
  stop(): Promise<void>;
}

interface Term {
  /** Leading: writes allowed, controllers reconciling. False while warming. */
  active: boolean;
  running: number;
  readonly factory: SharedInformerFactory;
  readonly controllers: ActorRefFrom<typeof controllerMachine>[];
  activeSinceMs: number | null;
}

export function startElectedComponent(options: ElectedComponentOptions): ElectedComponent {
  checkRuntimeLimits();
  checkLeaderElectionTiming(options.timing);
  const logger = options.logger.child({ component: options.name });
  let term: Term | null = null;
  const elector = createActor(leaderElectionMachine, {
    clock: options.clock,
    input: { api: options.api, name: options.name, identity: options.identity, timing: options.timing, clock: options.clock, wallClock: options.wallClock, logger },
  });
  let lastHolder = '';
  elector.on('leader.observed', ({ holder, overdue }) => {
    if (holder !== lastHolder && holder !== '') logger.info('lease held elsewhere', { lease: options.name, holder });
    lastHolder = holder;
    if (overdue && term === null) {
      logger.info('lease holder overdue; warming caches', { lease: options.name, holder });
      term = startTerm(options, logger);
    } else if (!overdue && term !== null && !term.active) {
      logger.info('lease holder renewed; caches dropped', { lease: options.name, holder });
      endTerm(term);
      term = null;
    }
  });
  elector.on('leader.started', () => {
    logger.info('leading', { lease: options.name, identity: options.identity });
    term ??= startTerm(options, logger);
    lead(term, options, logger);
  });
  elector.on('leader.stopped', ({ reason }) => {
    // A clean stop is expected; losing the Lease any other way deserves a warning.
    (reason === 'stop' ? logger.info : logger.warn)('stopped leading', { lease: options.name, reason });
    if (term !== null) endTerm(term);
    term = null;
  });
  elector.start();
  return {
    isLeading: () => term?.active === true,
    activeSince: () => term?.activeSinceMs ?? null,
    async stop() {
      const ending = term;
      term = null;
      if (ending !== null) {
        endTerm(ending);
        await Promise.all(ending.controllers.map((actor) => waitFor(actor, (s) => s.status === 'done', { timeout: runtimeLimits.stopDrainMs * 2 }).catch(() => undefined)));
      }
      elector.send({ type: 'leader.stop' });
      await waitFor(elector, (s) => s.status === 'done', { timeout: options.timing.retryPeriodMs * 2 + 2_000 }).catch(() => undefined);
      elector.stop();
    },
  };
}

/** The term's caches and controllers, syncing but not reconciling until `lead`. */
function startTerm(options: ElectedComponentOptions, logger: Logger): Term {
  const holder: { term: Term | null } = { term: null };
  const api = fencedApi(options.api, options.name, () => holder.term?.active === true);
  const factory = new SharedInformerFactory({ api, clock: options.clock, logger });
  const events = new ApiEventRecorder({ api, component: options.eventComponent ?? options.name, instance: options.identity, wallClock: options.wallClock, logger });
  const ctx: ControllerContext = { api, ...(options.bus !== undefined ? { bus: options.bus } : {}), ...(options.cluster !== undefined ? { cluster: options.cluster } : {}), informers: factory, events, clock: options.clock, logger, options: options.options };
  const term: Term = { active: false, running: 0, factory, controllers: [], activeSinceMs: null };
  holder.term = term;
  factory.start();
  const lease: KubeObject = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: options.name, namespace: 'kube-system' } };
  const concurrent = typeof options.options['concurrentWorkers'] === 'string' ? options.options['concurrentWorkers'] : undefined;
  for (const spec of options.specs) {
    const queue = new RateLimitedWorkQueue({ name: spec.name, clock: options.clock, logger });
    const workers = Math.min(runtimeLimits.workersMax, Math.max(1, workersFor(spec.name, concurrent, spec.workers, runtimeLimits.workersDefault)));
    const actor = createActor(controllerMachine, {
      clock: options.clock,
      input: { spec, ctx: { ...ctx, logger: logger.child({ controller: spec.name }) }, queue, workers, maxRetries: spec.maxRetries ?? runtimeLimits.maxRetriesDefault, fallbackObject: lease },
    });
    actor.on('controller.running', () => {
      term.running++;
      if (term.running === options.specs.length && term.active) markActive(term, options, logger);
    });
    term.controllers.push(actor);
    actor.start();
    actor.send({ type: 'controller.start' });
  }
  return term;
}

/** The term leads: writes open, controllers reconcile. */
function lead(term: Term, options: ElectedComponentOptions, logger: Logger): void {
  term.active = true;
  for (const actor of term.controllers) actor.send({ type: 'controller.lead' });
  if (term.running === options.specs.length) markActive(term, options, logger);
}

function markActive(term: Term, options: ElectedComponentOptions, logger: Logger): void {
  if (term.activeSinceMs !== null) return;
  term.activeSinceMs = options.wallClock().getTime();
  logger.info('controllers active', { lease: options.name, controllers: options.specs.map((s) => s.name), activeAt: new Date(term.activeSinceMs).toISOString() });
}

function endTerm(term: Term): void {
  term.active = false;
  for (const actor of term.controllers) actor.send({ type: 'controller.stop' });
  term.factory.stop();
}
