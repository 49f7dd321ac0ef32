/**
 * The taint eviction controller (Kubernetes' `taint-eviction-controller`): deletes the pods of a
 * Node with a NoExecute taint they do not tolerate at once, and those tolerating it with
 * `tolerationSeconds` when that runs out (taint-eviction.ts decides). Each deletion is announced
 * by a `TaintManagerEviction` Event and marked on the pod with a `DisruptionTarget` condition,
 * as Kubernetes does; a scheduled deletion the taint's removal cancels gets its Event too.
 *
 * Keys are pods. A Node whose NoExecute taints change queues its pods (the informer's nodeName
 * index); a waiting pod is queued again when its time comes.
 */
import type { Taint } from 'kubernetes-types/core/v1.js';
import { isDeleting, objectKey, rfc3339Seconds } from '../../objects/index.js';
import { nodeLifecycleLimits } from './limits.js';
import type { NodeObject, PodObject } from './object-types.js';
import { evictionDecision, noExecuteTaintsOf, tolerationStartMs } from './taint-eviction.js';
import { isConflict, isNotFound, refs, type ControllerContext, type ControllerSpec, type WorkQueue } from '../runtime/index.js';

interface EvictionTerm {
  /** Wall ms each NoExecute taint was first seen, by `node/key=value:effect@timeAdded`. */
  readonly firstSeen: Map<string, number>;
  /** Pods with a deletion scheduled (tolerationSeconds running). */
  readonly scheduled: Set<string>;
}

export interface TaintEvictionDependencies {
  /** Epoch ms: tolerations count from the taint's timeAdded, a wall-clock time. */
  readonly wallClockMs?: () => number;
}

export function createTaintEvictionController(deps: TaintEvictionDependencies = {}): ControllerSpec {
  const wallClockMs = deps.wallClockMs ?? Date.now;
  const terms = new WeakMap<object, EvictionTerm>();
  const termOf = (ctx: ControllerContext): EvictionTerm => {
    let term = terms.get(ctx.informers);
    if (term === undefined) {
      term = { firstSeen: new Map(), scheduled: new Set() };
      terms.set(ctx.informers, term);
    }
    return term;
  };

  return {
    name: 'taint-eviction-controller',
    watch(ctx, queue) {
      terms.delete(ctx.informers);
      const pods = ctx.informers.informer<PodObject>(refs.pods);
      const nodes = ctx.informers.informer<NodeObject>(refs.nodes);
      const onPod = (pod: PodObject): void => {
        const nodeName = pod.spec?.nodeName;
        if (nodeName === undefined || nodeName === '' || isDeleting(pod)) return;
        if (noExecuteTaintsOf(nodes.get(nodeName)?.spec?.taints).length > 0 || termOf(ctx).scheduled.has(objectKey(pod))) queue.add(objectKey(pod));
      };
      const queuePodsOf = (node: NodeObject): void => {
        for (const pod of pods.byIndex('nodeName', objectKey(node))) queue.add(objectKey(pod));
      };
      const offPods = pods.addHandlers({ onAdd: onPod, onUpdate: (_previous, pod) => onPod(pod) });
      const offNodes = nodes.addHandlers({
        onAdd: (node) => {
          noteTaints(termOf(ctx), node, wallClockMs());
          if (noExecuteTaintsOf(node.spec?.taints).length > 0) queuePodsOf(node);
        },
        onUpdate: (previous, node) => {
          noteTaints(termOf(ctx), node, wallClockMs());
          if (taintSignature(previous.spec?.taints) !== taintSignature(node.spec?.taints)) queuePodsOf(node);
        },
        onDelete: (node) => forgetNode(termOf(ctx), objectKey(node)),
      });
      return () => {
        offPods();
        offNodes();
        terms.delete(ctx.informers);
      };
    },
    async reconcile(key, ctx, queue) {
      return reconcilePod(ctx, { key, term: termOf(ctx), wallClockMs, queue });
    },
  };
}

function taintSignature(taints: readonly Taint[] | undefined): string {
  return noExecuteTaintsOf(taints).map((t) => `${t.key}=${t.value ?? ''}:${t.timeAdded ?? ''}`).sort().join(',');
}

function sightKey(node: string, taint: Taint): string {
  return `${node}/${taint.key}=${taint.value ?? ''}:${taint.effect}@${taint.timeAdded ?? ''}`;
}

/** Records when each NoExecute taint of the Node was first seen, and forgets the Node's taints that are gone. */
function noteTaints(term: EvictionTerm, node: NodeObject, nowMs: number): void {
  const name = objectKey(node);
  const current = new Set(noExecuteTaintsOf(node.spec?.taints).map((t) => sightKey(name, t)));
  for (const key of term.firstSeen.keys()) if (key.startsWith(`${name}/`) && !current.has(key)) term.firstSeen.delete(key);
  for (const key of current) if (!term.firstSeen.has(key) && term.firstSeen.size < nodeLifecycleLimits.nodesMax) term.firstSeen.set(key, nowMs);
}

function forgetNode(term: EvictionTerm, node: string): void {
  for (const key of term.firstSeen.keys()) if (key.startsWith(`${node}/`)) term.firstSeen.delete(key);
}

async function reconcilePod(ctx: ControllerContext, args: { key: string; term: EvictionTerm; wallClockMs: () => number; queue: WorkQueue }): Promise<{ requeueAfterMs: number } | void> {
  const { key, term } = args;
  const pod = ctx.informers.informer<PodObject>(refs.pods).get(key);
  const nodeName = pod?.spec?.nodeName;
  if (pod === undefined || isDeleting(pod) || nodeName === undefined || nodeName === '') {
    term.scheduled.delete(key);
    return;
  }
  const node = ctx.informers.informer<NodeObject>(refs.nodes).get(nodeName);
  const nowMs = args.wallClockMs();
  const startMs = (taint: Taint): number => tolerationStartMs(taint, term.firstSeen.get(sightKey(nodeName, taint))) ?? nowMs;
  const decision = evictionDecision(pod.spec?.tolerations, node?.spec?.taints, { nowMs, startMs });
  if (decision.kind === 'stay') {
    if (term.scheduled.delete(key)) ctx.events.record(pod, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
    return;
  }
  if (decision.kind === 'wait') {
    if (term.scheduled.size < nodeLifecycleLimits.scheduledEvictionsMax) term.scheduled.add(key);
    return { requeueAfterMs: decision.ms };
  }
  term.scheduled.delete(key);
  await evict(ctx, pod, rfc3339Seconds(nowMs));
}

/** Marks the pod as a disruption target (best effort) and deletes it, only if it is still the same pod. */
async function evict(ctx: ControllerContext, pod: PodObject, nowIso: string): Promise<void> {
  const key = objectKey(pod);
  ctx.events.record(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
  const condition = { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: nowIso };
  const conditions = [...(pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'), condition];
  try {
    await ctx.api.update(refs.pods, pod.metadata.namespace, pod.metadata.name ?? '', { ...pod, status: { ...pod.status, conditions } }, { subresource: 'status' });
  } catch (error) {
    if (isNotFound(error)) return;
    if (!isConflict(error)) throw error;
    // Changed meanwhile: the condition is informative only; the deletion below still applies.
  }
  try {
    await ctx.api.delete(refs.pods, pod.metadata.namespace, pod.metadata.name ?? '', { ...(pod.metadata.uid !== undefined ? { preconditions: { uid: pod.metadata.uid } } : {}) });
    ctx.logger.info('evicted pod from NoExecute-tainted node', { pod: key, node: pod.spec?.nodeName });
  } catch (error) {
    if (isNotFound(error) || isConflict(error)) return; // gone, or a new pod of the same name
    throw error;
  }
}

export const taintEvictionController: ControllerSpec = createTaintEvictionController();
