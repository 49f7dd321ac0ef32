/**
 * The assignment relay (issue 11 §4): the controller manager's one pods informer (shared with the
 * other loops: one watch for the whole cluster) fanned out to `kubus.<c>.node.<N>.assign`, with a
 * heartbeat per known node every second. Decisions live in relay-state.ts.
 *
 * Decision: it runs inside the ControllerSpec contract, unchanged. `watch` (called when the term
 * starts, possibly while only warming caches) subscribes the informers and queues one key; the
 * runtime reconciles keys only once the component leads, so the first reconcile of that key is the
 * activation: a fresh random epoch, then a heartbeat round every `heartbeatIntervalMs` through
 * `requeueAfterMs`. When the term ends the runtime calls the cleanup and shuts the queue, which
 * ends the heartbeats; the next leader's activation brings a new epoch.
 */
import { randomBytes } from 'node:crypto';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../objects/meta.js';
import { encode, subjects, type Bus, type Logger } from '../../../bus/index.js';
import { refs } from '../runtime/resource-refs.js';
import type { ControllerSpec, WorkQueue } from '../runtime/types.js';
import { relayLimits } from './limits.js';
import { RelayFanout, type Outgoing } from './relay-state.js';

/** The one key of this controller: activation, then one heartbeat round per reconcile. */
export const relayHeartbeatKey = 'assignmentrelay/heartbeat';

interface RelayRun {
  readonly fanout: RelayFanout;
  readonly publish: (out: readonly Outgoing[]) => void;
  stopped: boolean;
}

/** The running relay of each term, by the term's queue (watch and reconcile both receive it). */
const runs = new WeakMap<WorkQueue, RelayRun>();

function publisher(bus: Bus, cluster: string, logger: Logger): (out: readonly Outgoing[]) => void {
  const names = subjects(cluster);
  const failures = new Map<string, number>();
  return (out) => {
    for (const { node, message } of out) {
      try {
        bus.publish(names.nodeAssign(node), encode(message));
      } catch (error) {
        if (failures.size >= relayLimits.publishErrorNodesMax) failures.clear();
        const count = (failures.get(node) ?? 0) + 1;
        failures.set(node, count);
        if (count <= relayLimits.publishErrorsLoggedPerNodeMax) logger.warn('assignment publish failed', { node, kind: message.kind, seq: message.seq, error });
      }
    }
  };
}

export const assignmentRelay: ControllerSpec = {
  name: 'assignmentrelay',
  workers: 1,
  watch(ctx, queue) {
    if (ctx.bus === undefined || ctx.cluster === undefined) {
      ctx.logger.warn('assignment relay has no bus: agents learn their pods only by relisting');
      return;
    }
    const run: RelayRun = { fanout: new RelayFanout(), publish: publisher(ctx.bus, ctx.cluster, ctx.logger), stopped: false };
    const send = (out: readonly Outgoing[]) => {
      if (!run.stopped && out.length > 0) run.publish(out);
    };
    // The informers hold loose KubeObjects; pods are read through their generated type.
    const asPod = (object: KubeObject) => object as unknown as Pod;
    const unsubscribePods = ctx.informers.informer(refs.pods).addHandlers({
      onAdd: (pod) => send(run.fanout.podAdded(asPod(pod))),
      onUpdate: (previous, next) => send(run.fanout.podUpdated(asPod(previous), asPod(next))),
      onDelete: (pod) => send(run.fanout.podDeleted(asPod(pod))),
    });
    const unsubscribeNodes = ctx.informers.informer(refs.nodes).addHandlers({
      onAdd: (node) => run.fanout.nodeAdded(node.metadata.name ?? ''),
      onDelete: (node) => run.fanout.nodeDeleted(node.metadata.name ?? ''),
    });
    runs.set(queue, run);
    queue.add(relayHeartbeatKey);
    return () => {
      run.stopped = true;
      run.fanout.deactivate();
      unsubscribePods();
      unsubscribeNodes();
      runs.delete(queue);
    };
  },
  async reconcile(key, ctx, queue) {
    const run = runs.get(queue);
    if (key !== relayHeartbeatKey || run === undefined || run.stopped) return;
    if (run.fanout.currentEpoch() === null) {
      // An identity, not simulation randomness: two activations must never share an epoch, across processes.
      const epoch = randomBytes(8).toString('hex');
      run.fanout.activate(epoch);
      ctx.logger.info('assignment relay active', { epoch, nodes: run.fanout.knownNodes().length });
    }
    run.publish(run.fanout.heartbeats());
    return { requeueAfterMs: relayLimits.heartbeatIntervalMs };
  },
};
