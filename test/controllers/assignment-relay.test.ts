/**
 * The assignment relay's fan-out (actors/controllers/assignmentrelay/relay-state.ts): pod informer
 * events in, per-node numbered messages out. Proves: nothing is numbered before activation;
 * numbers are per node and start at 1 in each epoch; an update carries the pod, a deletion
 * `pod: null`; a pod recreated under its name (another uid, as a relist reports it) announces the
 * old uid gone first; heartbeats go to every Node and every node with pods, with the last number.
 */
import { describe, expect, test } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { RelayFanout } from '../../actors/controllers/assignmentrelay/index.js';

function pod(name: string, nodeName: string | undefined, rv: number, uid = `uid-${name}`): Pod {
  return { metadata: { namespace: 'ns', name, uid, resourceVersion: String(rv) }, spec: { containers: [], ...(nodeName !== undefined ? { nodeName } : {}) } };
}

describe('relay fan-out', () => {
  test('inactive: membership is tracked, nothing is sent', () => {
    const fanout = new RelayFanout();
    expect(fanout.podAdded(pod('a', 'n1', 1))).toEqual([]);
    expect(fanout.heartbeats()).toEqual([]);
    expect(fanout.knownNodes()).toEqual(['n1']);
  });

  test('numbers per node from 1 in each epoch; changes carry the pod, deletions null', () => {
    const fanout = new RelayFanout();
    fanout.activate('e1');
    expect(fanout.podAdded(pod('unbound', undefined, 1))).toEqual([]);
    expect(fanout.podAdded(pod('a', 'n1', 2))).toEqual([{ node: 'n1', message: { kind: 'change', epoch: 'e1', seq: 1, namespace: 'ns', name: 'a', uid: 'uid-a', pod: pod('a', 'n1', 2) } }]);
    expect(fanout.podAdded(pod('b', 'n2', 3))[0]?.message).toMatchObject({ seq: 1 });
    // Binding (nodeName set by the scheduler) is an update from no node to n1.
    expect(fanout.podUpdated(pod('c', undefined, 4), pod('c', 'n1', 5))).toEqual([{ node: 'n1', message: expect.objectContaining({ seq: 2, pod: pod('c', 'n1', 5) }) }]);
    const terminating = { ...pod('a', 'n1', 6), metadata: { ...pod('a', 'n1', 6).metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect(fanout.podUpdated(pod('a', 'n1', 2), terminating)[0]?.message).toMatchObject({ seq: 3, pod: terminating });
    expect(fanout.podDeleted(terminating)).toEqual([{ node: 'n1', message: { kind: 'change', epoch: 'e1', seq: 4, namespace: 'ns', name: 'a', uid: 'uid-a', pod: null } }]);
    fanout.activate('e2');
    expect(fanout.podUpdated(pod('c', 'n1', 5), pod('c', 'n1', 7))[0]?.message).toMatchObject({ epoch: 'e2', seq: 1 });
  });

  test('an update with another uid (deleted and recreated while no watch was open) sends the old uid gone, then the new pod', () => {
    const fanout = new RelayFanout();
    fanout.activate('e1');
    fanout.podAdded(pod('a', 'n1', 1));
    const out = fanout.podUpdated(pod('a', 'n1', 1), pod('a', 'n2', 9, 'uid-a2'));
    expect(out.map((o) => [o.node, o.message.seq, o.message.kind === 'change' ? o.message.uid : '', o.message.kind === 'change' ? o.message.pod !== null : null])).toEqual([
      ['n1', 2, 'uid-a', false],
      ['n2', 1, 'uid-a2', true],
    ]);
  });

  test('heartbeats: every Node object and every node with pods, with the last number sent to it', () => {
    const fanout = new RelayFanout();
    fanout.nodeAdded('n1');
    fanout.nodeAdded('n3');
    fanout.podAdded(pod('a', 'n2', 1));
    fanout.activate('e1');
    fanout.podUpdated(pod('a', 'n2', 1), pod('a', 'n2', 2));
    expect(fanout.heartbeats()).toEqual([
      { node: 'n1', message: { kind: 'heartbeat', epoch: 'e1', seq: 0 } },
      { node: 'n2', message: { kind: 'heartbeat', epoch: 'e1', seq: 1 } },
      { node: 'n3', message: { kind: 'heartbeat', epoch: 'e1', seq: 0 } },
    ]);
    fanout.nodeDeleted('n3');
    fanout.podDeleted(pod('a', 'n2', 2));
    expect(fanout.knownNodes()).toEqual(['n1']);
    // n2 comes back in the same epoch: its numbers continue, never restart.
    expect(fanout.podAdded(pod('b', 'n2', 3))[0]?.message.seq).toBe(3);
    fanout.deactivate();
    expect(fanout.heartbeats()).toEqual([]);
  });
});
