/**
 * The assignment relay's decisions, without I/O: which message goes to which node for each event
 * of the shared pods informer, and which nodes get a heartbeat. The actor (assignment-relay.ts)
 * only feeds informer events in and publishes what comes out.
 *
 * Decision: membership (which pods are bound to which node, which Nodes exist) is tracked at all
 * times, also while the component is only warming its caches; numbering starts at activation, with
 * a fresh epoch, and nothing is produced before it. An agent that sees the new epoch relists
 * through the API, so what happened before the activation reaches it from the list, never from
 * the stream.
 *
 * Decision: the shared informer's relist (after a 410 or a lost watch) reports the difference to
 * its previous cache as adds, updates and deletes, so the stream stays complete across it and the
 * epoch is kept: a new epoch there would make every agent of the cluster relist at once (5,000
 * lists) for changes the difference already carries. A pod that was deleted and recreated under
 * the same name while no watch was open arrives as an update with another uid: the old uid is
 * announced gone before the new one is sent.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { AssignmentChange, AssignmentHeartbeat, AssignmentMessage } from '../../../nodeagent/assignment/protocol.js';

/** One message for one node's subject. */
export interface Outgoing {
  readonly node: string;
  readonly message: AssignmentMessage;
}

function nodeOf(pod: Pod | undefined): string | undefined {
  const node = pod?.spec?.nodeName;
  return typeof node === 'string' && node !== '' ? node : undefined;
}

function identity(pod: Pod): { namespace: string; name: string; uid: string } {
  return { namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
}

export class RelayFanout {
  private epoch: string | null = null;
  /** Last sequence number sent per node in this epoch; kept for nodes that vanish, so a node that comes back never sees its numbers restart within one epoch. */
  private readonly seqByNode = new Map<string, number>();
  /** Pods bound to each node, by uid: which nodes have pods (they get heartbeats even without a Node object). */
  private readonly podsByNode = new Map<string, Set<string>>();
  private readonly nodeObjects = new Set<string>();

  /** Starts numbering under `epoch` (a random id chosen by the caller for this activation). */
  activate(epoch: string): void {
    this.epoch = epoch;
    this.seqByNode.clear();
  }

  deactivate(): void {
    this.epoch = null;
    this.seqByNode.clear();
  }

  currentEpoch(): string | null {
    return this.epoch;
  }

  podAdded(pod: Pod): Outgoing[] {
    const node = nodeOf(pod);
    if (node === undefined) return [];
    this.bind(node, pod);
    return this.change(node, pod, pod);
  }

  podUpdated(previous: Pod, next: Pod): Outgoing[] {
    const before = nodeOf(previous);
    const after = nodeOf(next);
    const sameUid = previous.metadata?.uid === next.metadata?.uid;
    const out: Outgoing[] = [];
    // The old object left `before`: recreated under the same name (another uid), or moved (never by the API, but cheap to honour).
    if (before !== undefined && (!sameUid || before !== after)) {
      this.unbind(before, previous);
      out.push(...this.change(before, previous, null));
    }
    if (after !== undefined) {
      this.bind(after, next);
      out.push(...this.change(after, next, next));
    }
    return out;
  }

  /** The object is gone from the API (`pod` is its last known state). */
  podDeleted(pod: Pod): Outgoing[] {
    const node = nodeOf(pod);
    if (node === undefined) return [];
    this.unbind(node, pod);
    return this.change(node, pod, null);
  }

  nodeAdded(name: string): void {
    this.nodeObjects.add(name);
  }

  nodeDeleted(name: string): void {
    this.nodeObjects.delete(name);
  }

  /** Nodes that get a heartbeat: every Node object and every node some pod is bound to. */
  knownNodes(): string[] {
    const nodes = new Set(this.nodeObjects);
    for (const [node, pods] of this.podsByNode) if (pods.size > 0) nodes.add(node);
    return [...nodes].sort();
  }

  /** One heartbeat per known node with the last number sent to it (0: nothing yet). Nothing while inactive. */
  heartbeats(): Outgoing[] {
    const epoch = this.epoch;
    if (epoch === null) return [];
    return this.knownNodes().map((node) => {
      const message: AssignmentHeartbeat = { kind: 'heartbeat', epoch, seq: this.seqByNode.get(node) ?? 0 };
      return { node, message };
    });
  }

  private change(node: string, about: Pod, pod: Pod | null): Outgoing[] {
    const epoch = this.epoch;
    if (epoch === null) return [];
    const seq = (this.seqByNode.get(node) ?? 0) + 1;
    this.seqByNode.set(node, seq);
    const message: AssignmentChange = { kind: 'change', epoch, seq, ...identity(about), pod };
    return [{ node, message }];
  }

  private bind(node: string, pod: Pod): void {
    const uid = pod.metadata?.uid ?? '';
    let pods = this.podsByNode.get(node);
    if (pods === undefined) this.podsByNode.set(node, (pods = new Set()));
    pods.add(uid);
  }

  private unbind(node: string, pod: Pod): void {
    const pods = this.podsByNode.get(node);
    if (pods === undefined) return;
    pods.delete(pod.metadata?.uid ?? '');
    if (pods.size === 0) this.podsByNode.delete(node);
  }
}
