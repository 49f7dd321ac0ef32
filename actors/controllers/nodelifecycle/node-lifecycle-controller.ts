/**
 * The node lifecycle controller (Kubernetes' nodelifecycle `monitorNodeHealth` and
 * `doNoScheduleTaintingPass`), as one periodic pass over every Node:
 *
 * 1. health: a Node silent past `--node-monitor-grace-period` (no Lease renewal, no Ready
 *    heartbeat, as observed by this controller) gets its kubelet conditions set Unknown;
 * 2. NoSchedule taints follow the conditions (`not-ready`, `unreachable`, pressure, unschedulable);
 * 3. the NoExecute `unreachable` / `not-ready` taint, which makes the taint eviction controller
 *    evict, is set through each zone's rate limiter (zone-state.ts decides the rates and the
 *    all-zones-down stop) and removed when the Node is Ready again;
 * 4. its pods get Ready=False when it stops being Ready (a Service stops sending them traffic).
 *
 * Decision: one key (the whole pass) rather than one key per Node, because the zone states and
 * rate limits are decisions over all Nodes at once, as in Kubernetes; the pass is in-memory work
 * over the informer caches and writes only what changed. It runs every `--node-monitor-period`,
 * at the moment the next Node's grace period ends, when a zone's next token is due, and on every
 * Node change; Lease renewals only update the health records (they change no decision).
 */
import { getCondition, objectKey, rfc3339Seconds } from '../../objects/index.js';
import type { Taint } from 'kubernetes-types/core/v1.js';
import { nodeLifecycleLimits } from './limits.js';
import { observeLease, observeNodeStatus, readyStatus, staleAtMs, staleConditions, type HealthSettings, type NodeHealth } from './node-health.js';
import { desiredNoScheduleTaints, nextTaints, noExecuteIntent, type NoExecuteChange } from './node-taints.js';
import type { LeaseObject, NodeObject, PodObject } from './object-types.js';
import { durationOptionMs, numberOption, type OptionValues } from './option-values.js';
import { planDisruption, zoneKey, type DisruptionPlan, type DisruptionSettings, type ZoneState } from './zone-state.js';
import { ZoneTaintQueue } from './zone-taint-queue.js';
import { isConflict, isNotFound, refs, type ControllerContext, type ControllerSpec, type WorkQueue } from '../runtime/index.js';

export const nodeLeaseNamespace = 'kube-node-lease';
const passKey = 'node-lifecycle-pass';

export interface NodeLifecycleSettings extends HealthSettings, DisruptionSettings {
  /** `--node-monitor-period`: the longest time between two passes. */
  readonly monitorPeriodMs: number;
}

export function nodeLifecycleSettings(options: OptionValues): NodeLifecycleSettings {
  return {
    gracePeriodMs: durationOptionMs(options, 'nodeMonitorGracePeriod', 40_000),
    startupGracePeriodMs: durationOptionMs(options, 'nodeStartupGracePeriod', 60_000),
    monitorPeriodMs: Math.max(nodeLifecycleLimits.passIntervalMinMs, durationOptionMs(options, 'nodeMonitorPeriod', 5_000)),
    nodeEvictionRate: numberOption(options, 'nodeEvictionRate', 0.1, { min: 0 }),
    secondaryNodeEvictionRate: numberOption(options, 'secondaryNodeEvictionRate', 0.01, { min: 0 }),
    unhealthyZoneThreshold: numberOption(options, 'unhealthyZoneThreshold', 0.55, { min: 0, max: 1 }),
    largeClusterSizeThreshold: numberOption(options, 'largeClusterSizeThreshold', 50, { min: 0, integer: true }),
  };
}

/** What one leadership term remembers; dropped when the term ends (a new term starts fresh, as a restarted Kubernetes controller does). */
interface LifecycleTerm {
  readonly health: Map<string, NodeHealth>;
  zoneStates: ReadonlyMap<string, ZoneState>;
  readonly zoneQueues: Map<string, ZoneTaintQueue>;
  /** Nodes whose pods were set Ready=False in their current not-ready spell. */
  readonly podsMarkedNotReady: Set<string>;
  /** Ready status per Node at the end of the last pass, for the NodeNotReady transition. */
  readonly lastReady: Map<string, string | undefined>;
}

export interface NodeLifecycleDependencies {
  /** Epoch ms for the timestamps written (condition transitions, taint timeAdded). */
  readonly wallClockMs?: () => number;
}

export function createNodeLifecycleController(deps: NodeLifecycleDependencies = {}): ControllerSpec {
  const wallClockMs = deps.wallClockMs ?? Date.now;
  const terms = new WeakMap<object, LifecycleTerm>();
  const termOf = (ctx: ControllerContext): LifecycleTerm => {
    let term = terms.get(ctx.informers);
    if (term === undefined) {
      term = { health: new Map(), zoneStates: new Map(), zoneQueues: new Map(), podsMarkedNotReady: new Set(), lastReady: new Map() };
      terms.set(ctx.informers, term);
    }
    return term;
  };

  return {
    name: 'nodelifecycle',
    watch(ctx, queue) {
      nodeLifecycleSettings(ctx.options); // a bad flag stops the controller here, naming it
      terms.delete(ctx.informers);
      const term = termOf(ctx);
      ctx.informers.informer<PodObject>(refs.pods);
      const nodes = ctx.informers.informer<NodeObject>(refs.nodes);
      const leases = ctx.informers.informer<LeaseObject>(refs.leases);
      const observe = (node: NodeObject): void => {
        term.health.set(objectKey(node), observeNodeStatus(term.health.get(objectKey(node)), node, ctx.clock.now()));
      };
      const onLease = (lease: LeaseObject): void => {
        if (lease.metadata.namespace !== nodeLeaseNamespace || lease.metadata.name === undefined) return;
        // Only Nodes this controller knows get a record: a Lease without a Node proves nothing.
        if (nodes.get(lease.metadata.name) === undefined) return;
        term.health.set(lease.metadata.name, observeLease(term.health.get(lease.metadata.name), lease.spec?.renewTime, ctx.clock.now()));
      };
      const offNodes = nodes.addHandlers({
        onAdd: (node) => { observe(node); queue.add(passKey); },
        onUpdate: (_previous, node) => { observe(node); queue.add(passKey); },
        onDelete: () => queue.add(passKey),
      });
      const offLeases = leases.addHandlers({ onAdd: onLease, onUpdate: (_previous, lease) => onLease(lease) });
      queue.add(passKey);
      return () => {
        offNodes();
        offLeases();
        terms.delete(ctx.informers);
      };
    },
    async reconcile(_key, ctx, queue) {
      const settings = nodeLifecycleSettings(ctx.options);
      const nextInMs = await monitorPass(ctx, { term: termOf(ctx), settings, wallClockMs, queue });
      return { requeueAfterMs: Math.max(nodeLifecycleLimits.passIntervalMinMs, Math.min(settings.monitorPeriodMs, nextInMs)) };
    },
  };
}

interface PassArgs {
  readonly term: LifecycleTerm;
  readonly settings: NodeLifecycleSettings;
  readonly wallClockMs: () => number;
  readonly queue: WorkQueue;
}

/** One pass over every Node; returns the ms until the next pass is needed (grace ends, a token is due). */
async function monitorPass(ctx: ControllerContext, args: PassArgs): Promise<number> {
  const { term, settings } = args;
  const nodes = ctx.informers.informer<NodeObject>(refs.nodes);
  const leases = ctx.informers.informer<LeaseObject>(refs.leases);
  const nowMs = ctx.clock.now();
  const nowIso = rfc3339Seconds(args.wallClockMs());
  forgetDeleted(term, new Set(nodes.list().map((n) => objectKey(n))));

  // 1. Health: a Node silent past its grace period gets Unknown conditions.
  const current = new Map<string, NodeObject>();
  for (const listed of nodes.list()) {
    const name = objectKey(listed);
    let health = observeNodeStatus(term.health.get(name), listed, nowMs);
    const lease = leases.get(`${nodeLeaseNamespace}/${name}`);
    if (lease !== undefined) health = observeLease(health, lease.spec?.renewTime, nowMs);
    term.health.set(name, health);
    const node = await markStale(ctx, { term, node: listed, health, nowMs, nowIso, settings });
    if (node !== undefined) current.set(name, node);
  }

  // 2. Zones: rates, and the all-zones-down rule.
  const plan = applyDisruption(ctx, { term, current: current.values(), settings, nowMs });

  // 3. NoExecute intents: swaps and removals now, new taints through the zone's limiter.
  const noExecute = new Map<string, NoExecuteChange>();
  for (const [name, node] of current) {
    const zoneQueue = term.zoneQueues.get(zoneKey(node.metadata.labels));
    const intent = plan.allFullyDisrupted ? (plan.enteringFullDisruption ? 'remove' : 'keep') : noExecuteIntent(readyStatus(node), node.spec?.taints);
    if (intent === 'enqueue') zoneQueue?.add(name);
    else {
      if (intent === 'remove') zoneQueue?.remove(name);
      noExecute.set(name, intent);
    }
  }
  for (const zoneQueue of term.zoneQueues.values()) {
    for (const name of zoneQueue.take(nowMs)) {
      const ready = readyStatus(current.get(name) ?? {});
      if (ready === 'False') noExecute.set(name, 'notReady');
      else if (ready === 'Unknown' || ready === undefined) noExecute.set(name, 'unreachable');
    }
  }

  // 4. One taint write per Node that needs one.
  for (const [name, node] of current) {
    const change = noExecute.get(name) ?? 'keep';
    const taints = nextTaints(node.spec?.taints, { noSchedule: desiredNoScheduleTaints(node), noExecute: change, nowIso });
    if (taints === undefined) continue;
    const written = await writeTaints(ctx, node, taints);
    if (!written && (change === 'notReady' || change === 'unreachable')) {
      term.zoneQueues.get(zoneKey(node.metadata.labels))?.add(name); // its turn again, next pass
    }
  }

  // 5. Pods of Nodes that stopped being Ready (after the taints, as Kubernetes orders it: the
  // taints keep new pods away and start evictions; readiness only steers traffic).
  for (const node of current.values()) await notReadyPods(ctx, { term, node, nowIso });
  return nextPassInMs(term, { nowMs, settings });
}

/** Zone states and rates for this pass (zone-state.ts decides), applied to the term's queues. */
function applyDisruption(ctx: ControllerContext, args: { term: LifecycleTerm; current: Iterable<NodeObject>; settings: NodeLifecycleSettings; nowMs: number }): DisruptionPlan {
  const { term, nowMs } = args;
  const zones = new Map<string, (string | undefined)[]>();
  for (const node of args.current) {
    const zone = zoneKey(node.metadata.labels);
    zones.set(zone, [...(zones.get(zone) ?? []), readyStatus(node)]);
  }
  const plan = planDisruption(term.zoneStates, zones, args.settings);
  if (plan.exitingFullDisruption) {
    ctx.logger.info('a zone is reachable again: leaving full disruption, every node\'s grace period restarts');
    for (const [name, health] of term.health) term.health.set(name, { ...health, probeMs: nowMs });
  }
  if (plan.enteringFullDisruption) ctx.logger.warn('every node of every zone is not ready: no evictions (the control plane is the likely problem)');
  term.zoneStates = plan.zoneStates;
  for (const [zone, rate] of plan.rates) {
    const queue = term.zoneQueues.get(zone);
    if (queue === undefined) term.zoneQueues.set(zone, new ZoneTaintQueue(rate, nowMs));
    else queue.setRate(rate, nowMs);
  }
  for (const zone of term.zoneQueues.keys()) if (!zones.has(zone)) term.zoneQueues.delete(zone);
  return plan;
}

function forgetDeleted(term: LifecycleTerm, names: ReadonlySet<string>): void {
  for (const map of [term.health, term.lastReady]) for (const name of map.keys()) if (!names.has(name)) map.delete(name);
  for (const name of term.podsMarkedNotReady) if (!names.has(name)) term.podsMarkedNotReady.delete(name);
  for (const queue of term.zoneQueues.values()) for (const name of queue.pendingNodes()) if (!names.has(name)) queue.remove(name);
}

function nextPassInMs(term: LifecycleTerm, args: { nowMs: number; settings: NodeLifecycleSettings }): number {
  let next = args.settings.monitorPeriodMs;
  for (const health of term.health.values()) {
    const due = staleAtMs(health, args.settings) - args.nowMs;
    // A Node already past its grace period was marked in this pass; its next deadline is a renewal away.
    if (due > 0) next = Math.min(next, due + 1);
  }
  for (const queue of term.zoneQueues.values()) {
    const due = queue.nextInMs(args.nowMs);
    if (due !== undefined) next = Math.min(next, Math.max(due, nodeLifecycleLimits.taintRetryMs));
  }
  return next;
}

/** Writes Unknown conditions for a silent Node; returns the Node as it now is (undefined: deleted meanwhile). */
async function markStale(ctx: ControllerContext, args: { term: LifecycleTerm; node: NodeObject; health: NodeHealth; nowMs: number; nowIso: string; settings: HealthSettings }): Promise<NodeObject | undefined> {
  const conditions = staleConditions(args.node, args.health, args);
  if (conditions === undefined) return args.node;
  const name = objectKey(args.node);
  try {
    const updated = await ctx.api.update<NodeObject>(refs.nodes, undefined, name, { ...args.node, status: { ...args.node.status, conditions } }, { subresource: 'status' });
    ctx.logger.info('node stopped posting status: conditions Unknown', { node: name });
    // Our own write is no sign of life: a Ready condition it added must not restart the grace period.
    args.term.health.set(name, { ...observeNodeStatus(args.health, updated, args.nowMs), probeMs: args.health.probeMs });
    return updated;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    // A kubelet (or test) wrote the Node meanwhile: the next pass judges its fresh state.
    if (isConflict(error)) return args.node;
    throw error;
  }
}

/** Kubernetes' MarkPodsNotReady, once per not-ready spell of a Node (retried by the next pass until it succeeds). */
async function notReadyPods(ctx: ControllerContext, args: { term: LifecycleTerm; node: NodeObject; nowIso: string }): Promise<void> {
  const { term, node } = args;
  const name = objectKey(node);
  const ready = readyStatus(node);
  const wasReady = term.lastReady.get(name);
  term.lastReady.set(name, ready);
  if (ready === 'True' || ready === undefined) {
    term.podsMarkedNotReady.delete(name);
    return;
  }
  if (wasReady === 'True') ctx.events.record(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
  if (term.podsMarkedNotReady.has(name)) return;
  let failed = false;
  for (const pod of ctx.informers.informer<PodObject>(refs.pods).byIndex('nodeName', name)) {
    const podReady = getCondition(pod.status?.conditions, 'Ready');
    if (podReady === undefined || podReady.status === 'False' || pod.spec?.nodeName !== name) continue;
    const conditions = (pod.status?.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: args.nowIso } : c));
    try {
      await ctx.api.update(refs.pods, pod.metadata.namespace, pod.metadata.name ?? '', { ...pod, status: { ...pod.status, conditions } }, { subresource: 'status' });
      ctx.events.record(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
    } catch (error) {
      if (isNotFound(error)) continue;
      failed = true;
      ctx.logger.debug('could not mark pod not ready; next pass retries', { pod: objectKey(pod), error });
    }
  }
  if (!failed) term.podsMarkedNotReady.add(name);
}

async function writeTaints(ctx: ControllerContext, node: NodeObject, taints: readonly Taint[]): Promise<boolean> {
  const name = objectKey(node);
  try {
    await ctx.api.update(refs.nodes, undefined, name, { ...node, spec: { ...node.spec, taints } });
    ctx.logger.info('node taints set', { node: name, taints: taints.map((t) => `${t.key}:${t.effect}`).join(',') });
    return true;
  } catch (error) {
    if (isNotFound(error) || isConflict(error)) return false; // gone, or changed: the next pass decides again
    throw error;
  }
}

export const nodeLifecycleController: ControllerSpec = createNodeLifecycleController();
