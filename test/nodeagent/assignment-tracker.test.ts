/**
 * The assignment tracker (nodeagent/assignment/assignment-tracker.ts) decides, from relay messages
 * and list results alone, what the pod manager hears and when the agent relists. These cases drive
 * it by hand: a gap, a new epoch and a missed heartbeat each ask for a list; a list's pods come out
 * as one `sync`; messages held during a list are replayed on top of it; a pod never goes back to an
 * older resourceVersion; a deleted uid never returns; a failed list emits nothing.
 */
import { describe, expect, test } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { AssignmentTracker, type AssignmentMessage } from '../../nodeagent/assignment/index.js';

const node = 'n1';

function pod(name: string, rv: number, options: { uid?: string; nodeName?: string } = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'default', name, uid: options.uid ?? `uid-${name}`, resourceVersion: String(rv) }, spec: { nodeName: options.nodeName ?? node, containers: [] } };
}

function change(epoch: string, seq: number, p: Pod | null, name = p?.metadata?.name ?? 'x', uid = p?.metadata?.uid ?? `uid-${name}`): AssignmentMessage {
  return { kind: 'change', epoch, seq, namespace: 'default', name, uid, pod: p };
}

const heartbeat = (epoch: string, seq: number): AssignmentMessage => ({ kind: 'heartbeat', epoch, seq });

/** A tracker that saw epoch `e` at `seq` and then listed `pods` at `listRv`: streaming. */
function streaming(pods: Pod[], listRv: number, e = 'e1', seq = 0): AssignmentTracker {
  const tracker = new AssignmentTracker(node, 0);
  expect(tracker.message(heartbeat(e, seq), 10).relist).toBe(true);
  tracker.listStarted();
  const out = tracker.listed(pods, String(listRv), 20);
  expect(out.relist).toBe(false);
  expect(tracker.currentPhase()).toBe('streaming');
  return tracker;
}

describe('assignment tracker', () => {
  test('lists once the first relay message came, then emits one sync of the listed pods', () => {
    const tracker = new AssignmentTracker(node, 0);
    expect(tracker.currentPhase()).toBe('starting');
    expect(tracker.tick(100).relist).toBe(false);
    expect(tracker.message(heartbeat('e1', 4), 200)).toMatchObject({ relist: true });
    tracker.listStarted();
    const out = tracker.listed([pod('a', 5), pod('other', 6, { nodeName: 'n2' })], '9', 300);
    expect(out.updates).toEqual([{ type: 'sync', pods: [pod('a', 5)] }]);
    expect(tracker.synced()).toBe(true);
    // The stream continues from (e1, 4).
    expect(tracker.message(change('e1', 5, pod('b', 10)), 400)).toEqual({ updates: [{ type: 'upsert', pod: pod('b', 10) }], relist: false });
  });

  test('with no relay message at all it lists after firstMessageWaitMs, and relists at the first epoch it then sees', () => {
    const tracker = new AssignmentTracker(node, 0, { firstMessageWaitMs: 1_500 });
    expect(tracker.tick(1_499).relist).toBe(false);
    expect(tracker.tick(1_500)).toMatchObject({ relist: true, reason: 'no relay message yet' });
    tracker.listStarted();
    expect(tracker.listed([pod('a', 5)], '5', 1_600).updates).toHaveLength(1);
    // A relay that became active after that list never streams what changed in between: list again.
    expect(tracker.message(heartbeat('e1', 0), 2_000)).toMatchObject({ relist: true, reason: 'new relay epoch' });
  });

  test('a sequence gap relists; a heartbeat ahead of the last change relists; duplicates are ignored', () => {
    const tracker = streaming([], 1);
    expect(tracker.message(change('e1', 1, pod('a', 2)), 30).updates).toHaveLength(1);
    expect(tracker.message(change('e1', 1, pod('a', 2)), 31)).toEqual({ updates: [], relist: false });
    expect(tracker.message(heartbeat('e1', 1), 32).relist).toBe(false);
    expect(tracker.message(change('e1', 3, pod('c', 4)), 33)).toMatchObject({ updates: [], relist: true, reason: 'sequence gap' });

    const other = streaming([], 1);
    expect(other.message(heartbeat('e1', 2), 40)).toMatchObject({ relist: true, reason: 'sequence gap (heartbeat ahead)' });
  });

  test('an epoch change relists, and the list started after it continues that epoch', () => {
    const tracker = streaming([pod('a', 2)], 2);
    expect(tracker.message(heartbeat('e2', 0), 50)).toMatchObject({ relist: true, reason: 'new relay epoch' });
    tracker.listStarted();
    expect(tracker.listed([pod('a', 2)], '3', 60).relist).toBe(false);
    expect(tracker.message(change('e2', 1, pod('a', 4)), 70).updates).toEqual([{ type: 'upsert', pod: pod('a', 4) }]);
  });

  test('a missed heartbeat relists (no message for missedHeartbeatMs)', () => {
    const tracker = streaming([], 1);
    tracker.message(heartbeat('e1', 0), 1_000);
    expect(tracker.tick(4_499).relist).toBe(false);
    expect(tracker.tick(4_500)).toMatchObject({ relist: true, reason: 'relay heartbeat missed' });
  });

  test('never regresses a pod to an older resourceVersion (compared as numbers), from the stream or a list', () => {
    const tracker = streaming([pod('a', 9)], 9);
    expect(tracker.message(change('e1', 1, pod('a', 10)), 30).updates).toHaveLength(1);
    expect(tracker.message(change('e1', 2, pod('a', 8)), 31).updates).toEqual([]);
    expect(tracker.message(change('e1', 3, pod('a', 10)), 32).updates).toEqual([]);
    // "100" > "99" numerically although not as strings.
    expect(tracker.message(change('e1', 4, pod('a', 100)), 33).updates).toHaveLength(1);
    tracker.message(heartbeat('e1', 6), 34); // gap: relist
    tracker.listStarted();
    const out = tracker.listed([pod('a', 99)], '99', 40);
    expect(out.updates).toEqual([{ type: 'sync', pods: [pod('a', 100)] }]);
  });

  test('a pod the stream showed newer than a list survives that list; one no newer than the list and absent from it goes', () => {
    const tracker = streaming([pod('old', 3)], 3);
    tracker.message(change('e1', 1, pod('new', 12)), 30);
    tracker.message(heartbeat('e1', 5), 31); // gap
    tracker.listStarted();
    const out = tracker.listed([], '10', 40);
    expect(out.updates).toEqual([{ type: 'sync', pods: [pod('new', 12)] }]);
  });

  test('messages that arrive during a list are replayed on top of it; stale ones change nothing', () => {
    const tracker = new AssignmentTracker(node, 0);
    tracker.message(heartbeat('e1', 2), 10);
    tracker.listStarted();
    // Published before the list was served (the list reflects them), then after it.
    expect(tracker.message(change('e1', 3, pod('a', 5)), 11).updates).toEqual([]);
    tracker.message(change('e1', 4, pod('gone', 6)), 12);
    tracker.message(change('e1', 5, null, 'gone'), 13);
    tracker.message(change('e1', 6, pod('a', 8)), 14);
    tracker.message(change('e1', 7, pod('b', 9)), 15);
    const out = tracker.listed([pod('a', 5)], '7', 20);
    expect(out.relist).toBe(false);
    expect(out.updates).toEqual([
      { type: 'sync', pods: [pod('a', 5)] },
      { type: 'upsert', pod: pod('a', 8) },
      { type: 'upsert', pod: pod('b', 9) },
    ]);
    expect([...tracker.pods().keys()].sort()).toEqual(['uid-a', 'uid-b']);
  });

  test('a gap among the held messages relists right after the sync', () => {
    const tracker = new AssignmentTracker(node, 0);
    tracker.message(heartbeat('e1', 0), 10);
    tracker.listStarted();
    tracker.message(change('e1', 2, pod('a', 5)), 11);
    expect(tracker.listed([], '4', 20)).toMatchObject({ relist: true, reason: 'sequence gap' });
  });

  test('too many held messages: dropped, and the client lists again after this list', () => {
    const tracker = new AssignmentTracker(node, 0, { listBufferMax: 2 });
    tracker.message(heartbeat('e1', 0), 10);
    tracker.listStarted();
    for (let seq = 1; seq <= 3; seq++) tracker.message(change('e1', seq, pod(`p${seq}`, seq + 10)), 10 + seq);
    const out = tracker.listed([], '11', 20);
    expect(out.updates).toEqual([{ type: 'sync', pods: [] }]);
    expect(out).toMatchObject({ relist: true, reason: 'relay messages overflowed the list buffer' });
  });

  test('a deletion removes the pod once and its uid never comes back, even from a later list', () => {
    const tracker = streaming([pod('a', 3)], 3);
    expect(tracker.message(change('e1', 1, null, 'a'), 30).updates).toEqual([{ type: 'delete', namespace: 'default', name: 'a', uid: 'uid-a' }]);
    expect(tracker.message(change('e1', 2, null, 'a'), 31).updates).toEqual([]);
    expect(tracker.message(change('e1', 3, pod('a', 7)), 32).updates).toEqual([]);
    tracker.message(heartbeat('e1', 9), 33);
    tracker.listStarted();
    expect(tracker.listed([pod('a', 3)], '3', 40).updates).toEqual([{ type: 'sync', pods: [] }]);
  });

  test('a pod recreated under the same name is another uid: delete of the old, upsert of the new', () => {
    const tracker = streaming([pod('a', 3)], 3);
    const recreated = pod('a', 8, { uid: 'uid-a2' });
    const out = [...tracker.message(change('e1', 1, null, 'a', 'uid-a'), 30).updates, ...tracker.message(change('e1', 2, recreated), 31).updates];
    expect(out).toEqual([{ type: 'delete', namespace: 'default', name: 'a', uid: 'uid-a' }, { type: 'upsert', pod: recreated }]);
  });

  test('a failed list emits nothing and keeps the view; messages meanwhile are covered by the retry', () => {
    const tracker = streaming([pod('a', 3)], 3);
    tracker.message(heartbeat('e2', 0), 30);
    tracker.listStarted();
    tracker.listFailed();
    expect(tracker.currentPhase()).toBe('waiting');
    expect(tracker.message(change('e2', 1, null, 'a'), 40)).toEqual({ updates: [], relist: false });
    expect(tracker.tick(60_000)).toEqual({ updates: [], relist: false });
    expect([...tracker.pods().keys()]).toEqual(['uid-a']);
    tracker.listStarted();
    expect(tracker.listed([], '9', 61_000).updates).toEqual([{ type: 'sync', pods: [] }]);
    expect(tracker.message(change('e2', 2, pod('b', 10)), 61_001).updates).toHaveLength(1);
  });

  test('silence relists back off: 3.5 s, 7 s, 14 s, 28 s, then at most 30 s; a message resets it', () => {
    const tracker = streaming([], 1);
    let now = 20;
    const silences: number[] = [];
    for (let round = 0; round < 6; round++) {
      let waited = 0;
      while (!tracker.tick(now + waited).relist) waited += 250;
      silences.push(waited);
      now += waited;
      tracker.listStarted();
      tracker.listed([], '1', now);
    }
    expect(silences).toEqual([3_500, 7_000, 14_000, 28_000, 30_000, 30_000]);
    tracker.message(heartbeat('e1', 0), now + 1_000); // the relay is back (same epoch)
    expect(tracker.tick(now + 1_000 + 3_499).relist).toBe(false);
    expect(tracker.tick(now + 1_000 + 3_500).relist).toBe(true);
  });
});
