/**
 * The pod garbage collector (Kubernetes' `pod-garbage-collector`): pods bound to a Node that no
 * longer exists are marked Failed with a `DisruptionTarget` condition and force-deleted (no
 * kubelet is left to finish a graceful deletion); terminated pods beyond
 * `--terminated-pod-gc-threshold` (12,500) are deleted oldest first. pod-gc.ts decides.
 *
 * Keys are pods, plus one key for the terminated-pods pass.
 */
import { isDeleting, objectKey, rfc3339Seconds } from '../../objects/index.js';
import type { NodeObject, PodObject } from '../nodelifecycle/object-types.js';
import { durationOptionMs, numberOption, type OptionValues } from '../nodelifecycle/option-values.js';
import { podGcLimits } from './limits.js';
import { isTerminated, orphanDecision, terminatedToDelete } from './pod-gc.js';
import { isConflict, isNotFound, refs, type ControllerContext, type ControllerSpec } from '../runtime/index.js';

const terminatedKey = '#terminated-pods';

export interface PodGcSettings {
  readonly quarantineMs: number;
  readonly terminatedThreshold: number;
}

export function podGcSettings(options: OptionValues): PodGcSettings {
  return {
    quarantineMs: durationOptionMs(options, 'podGcQuarantinePeriod', 40_000),
    terminatedThreshold: numberOption(options, 'terminatedPodGcThreshold', 12_500, { min: 0, integer: true }),
  };
}

interface GcTerm {
  /** Monotonic ms a pod was first seen bound to an unknown Node. */
  readonly quarantine: Map<string, number>;
  /** Nodes whose deletion was seen (insertion order: oldest first). */
  readonly deletedNodes: Set<string>;
}

export interface PodGcDependencies {
  readonly wallClockMs?: () => number;
}

export function createPodGcController(deps: PodGcDependencies = {}): ControllerSpec {
  const wallClockMs = deps.wallClockMs ?? Date.now;
  const terms = new WeakMap<object, GcTerm>();
  const termOf = (ctx: ControllerContext): GcTerm => {
    let term = terms.get(ctx.informers);
    if (term === undefined) {
      term = { quarantine: new Map(), deletedNodes: new Set() };
      terms.set(ctx.informers, term);
    }
    return term;
  };

  return {
    name: 'podgc',
    watch(ctx, queue) {
      podGcSettings(ctx.options); // a bad flag stops the controller here, naming it
      terms.delete(ctx.informers);
      const term = termOf(ctx);
      const pods = ctx.informers.informer<PodObject>(refs.pods);
      const nodes = ctx.informers.informer<NodeObject>(refs.nodes);
      const onPod = (pod: PodObject): void => {
        const nodeName = pod.spec?.nodeName;
        if (nodeName !== undefined && nodeName !== '' && nodes.get(nodeName) === undefined) queue.add(objectKey(pod));
        if (isTerminated(pod)) queue.add(terminatedKey);
      };
      const offPods = pods.addHandlers({ onAdd: onPod, onUpdate: (_previous, pod) => onPod(pod), onDelete: (pod) => term.quarantine.delete(objectKey(pod)) });
      const offNodes = nodes.addHandlers({
        onAdd: (node) => term.deletedNodes.delete(objectKey(node)),
        onDelete: (node) => {
          const name = objectKey(node);
          term.deletedNodes.add(name);
          while (term.deletedNodes.size > podGcLimits.deletedNodesMax) term.deletedNodes.delete(term.deletedNodes.values().next().value as string);
          for (const pod of pods.byIndex('nodeName', name)) queue.add(objectKey(pod));
        },
      });
      return () => {
        offPods();
        offNodes();
        terms.delete(ctx.informers);
      };
    },
    async reconcile(key, ctx) {
      const settings = podGcSettings(ctx.options);
      if (key === terminatedKey) return collectTerminated(ctx, settings);
      return collectOrphan(ctx, { key, term: termOf(ctx), settings, nowIso: rfc3339Seconds(wallClockMs()) });
    },
  };
}

async function collectOrphan(ctx: ControllerContext, args: { key: string; term: GcTerm; settings: PodGcSettings; nowIso: string }): Promise<{ requeueAfterMs: number } | void> {
  const { key, term } = args;
  const pod = ctx.informers.informer<PodObject>(refs.pods).get(key);
  const nodeName = pod?.spec?.nodeName;
  if (pod === undefined || nodeName === undefined || nodeName === '') {
    term.quarantine.delete(key);
    return;
  }
  const nowMs = ctx.clock.now();
  const quarantineStartMs = term.quarantine.get(key) ?? nowMs;
  const decision = orphanDecision({
    nodeKnown: ctx.informers.informer<NodeObject>(refs.nodes).get(nodeName) !== undefined,
    nodeDeletionSeen: term.deletedNodes.has(nodeName), quarantineStartMs, nowMs, quarantineMs: args.settings.quarantineMs,
  });
  if (decision.kind === 'keep') {
    term.quarantine.delete(key);
    return;
  }
  if (decision.kind === 'wait') {
    if (term.quarantine.size < podGcLimits.trackedMax) term.quarantine.set(key, quarantineStartMs);
    return { requeueAfterMs: decision.ms };
  }
  // The informer may lag behind a Node created a moment ago: the API has the last word.
  const exists = await ctx.api.get(refs.nodes, undefined, nodeName).then(() => true, (error: unknown) => (isNotFound(error) ? false : Promise.reject(error)));
  term.quarantine.delete(key);
  if (exists) return;
  await failAndDelete(ctx, { pod, nowIso: args.nowIso, reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' });
  ctx.logger.info('deleted pod of a missing node', { pod: key, node: nodeName });
}

async function collectTerminated(ctx: ControllerContext, settings: PodGcSettings): Promise<{ requeueAfterMs: number } | void> {
  const pods = ctx.informers.informer<PodObject>(refs.pods).list();
  const victims = terminatedToDelete(pods, settings.terminatedThreshold, podGcLimits.terminatedDeletesPerPassMax);
  for (const pod of victims) {
    await ctx.api.delete(refs.pods, pod.metadata.namespace, pod.metadata.name ?? '', { ...(pod.metadata.uid !== undefined ? { preconditions: { uid: pod.metadata.uid } } : {}) })
      .catch((error: unknown) => (isNotFound(error) || isConflict(error) ? undefined : Promise.reject(error)));
  }
  if (victims.length === podGcLimits.terminatedDeletesPerPassMax) return { requeueAfterMs: 0 };
}

/** Kubernetes 1.32 marks an orphaned, still running pod Failed with a DisruptionTarget condition, then force-deletes it. */
async function failAndDelete(ctx: ControllerContext, args: { pod: PodObject; nowIso: string; reason: string; message: string }): Promise<void> {
  const { pod } = args;
  const namespace = pod.metadata.namespace;
  const name = pod.metadata.name ?? '';
  if (!isTerminated(pod) && !isDeleting(pod)) {
    const conditions = [...(pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'),
      { type: 'DisruptionTarget', status: 'True', reason: args.reason, message: args.message, lastTransitionTime: args.nowIso }];
    await ctx.api.update(refs.pods, namespace, name, { ...pod, status: { ...pod.status, phase: 'Failed', conditions } }, { subresource: 'status' })
      .catch((error: unknown) => (isNotFound(error) || isConflict(error) ? undefined : Promise.reject(error)));
  }
  await ctx.api.delete(refs.pods, namespace, name, { gracePeriodSeconds: 0, ...(pod.metadata.uid !== undefined ? { preconditions: { uid: pod.metadata.uid } } : {}) })
    .catch((error: unknown) => (isNotFound(error) || isConflict(error) ? undefined : Promise.reject(error)));
}

export const podGcController: ControllerSpec = createPodGcController();
