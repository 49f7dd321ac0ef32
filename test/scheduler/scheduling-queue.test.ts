/**
 * The scheduling queue on a simulated clock: priority then age order, backoff 1 s doubling to
 * 10 s, unschedulable pods moved back only by a cluster event (or after the 5 min cap), an event
 * during a pod's cycle not lost, and status-only updates not re-queuing.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../bus/clock.js';
import { podInfo, schedulerLimits, SchedulingQueue, SchedulingQueueFullError } from '../../actors/scheduler/index.js';
import { pod } from './fixtures.js';

function setup() {
  const clock = new SimulatedClock();
  const queue = new SchedulingQueue(clock, schedulerLimits);
  const popName = (): string | undefined => queue.pop()?.info.pod.metadata?.name;
  return { clock, queue, popName };
}

describe('scheduling queue', () => {
  it('pops by priority, then by creation time', () => {
    const { queue, popName } = setup();
    queue.add(podInfo(pod('late-low', { priority: 1, created: '2026-01-01T00:00:09Z' })));
    queue.add(podInfo(pod('early-low', { priority: 1, created: '2026-01-01T00:00:01Z' })));
    queue.add(podInfo(pod('high', { priority: 10, created: '2026-01-01T00:00:05Z' })));
    expect([popName(), popName(), popName(), popName()]).toEqual(['high', 'early-low', 'late-low', undefined]);
  });

  it('backs off 1 s, 2 s, 4 s, 8 s, then 10 s', () => {
    const { queue } = setup();
    expect([1, 2, 3, 4, 5, 9].map((n) => queue.backoffMs(n))).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
  });

  it('a failed pod (retry) is popped again only after its backoff', () => {
    const { clock, queue, popName } = setup();
    queue.add(podInfo(pod('p')));
    const entry = queue.pop();
    if (entry === undefined) throw new Error('empty');
    queue.retry(entry);
    expect(popName()).toBeUndefined();
    expect(queue.nextBackoffMs()).toBe(clock.now() + 1000);
    clock.advance(999);
    expect(popName()).toBeUndefined();
    clock.advance(1);
    const again = queue.pop();
    expect(again?.info.pod.metadata?.name).toBe('p');
    if (again === undefined) throw new Error('empty');
    queue.retry(again);
    clock.advance(1999);
    expect(popName()).toBeUndefined();
    clock.advance(1);
    expect(popName()).toBe('p');
  });

  it('an unschedulable pod waits for a cluster event, then for what is left of its backoff', () => {
    const { clock, queue, popName } = setup();
    queue.add(podInfo(pod('p')));
    const entry = queue.pop();
    if (entry === undefined) throw new Error('empty');
    queue.unschedulable(entry);
    clock.advance(60_000);
    expect(popName()).toBeUndefined();
    expect(queue.counts().unschedulable).toBe(1);
    queue.moveAll('NodeAdd');
    expect(popName()).toBe('p');
  });

  it('an event right after the failure moves the pod to backoff, not straight to active', () => {
    const { clock, queue, popName } = setup();
    queue.add(podInfo(pod('p')));
    const entry = queue.pop();
    if (entry === undefined) throw new Error('empty');
    queue.unschedulable(entry);
    queue.moveAll('AssignedPodDelete');
    expect(queue.counts().backoff).toBe(1);
    expect(popName()).toBeUndefined();
    clock.advance(1000);
    expect(popName()).toBe('p');
  });

  it('an event during the cycle is not lost: the failed pod goes to backoff', () => {
    const { clock, queue, popName } = setup();
    queue.add(podInfo(pod('p')));
    const entry = queue.pop();
    if (entry === undefined) throw new Error('empty');
    queue.moveAll('NodeUpdate'); // arrives while p is being decided
    queue.unschedulable(entry);
    expect(queue.counts()).toEqual({ active: 0, backoff: 1, unschedulable: 0, inFlight: 0 });
    clock.advance(1000);
    expect(popName()).toBe('p');
  });

  it('a status-only update leaves an unschedulable pod waiting; a spec update moves it', () => {
    const { clock, queue, popName } = setup();
    queue.add(podInfo(pod('p')));
    const entry = queue.pop();
    if (entry === undefined) throw new Error('empty');
    queue.unschedulable(entry);
    clock.advance(5000);
    queue.add(podInfo(pod('p')), { relevantUpdate: false });
    expect(popName()).toBeUndefined();
    queue.add(podInfo(pod('p', { cpu: '1' })), { relevantUpdate: true });
    expect(popName()).toBe('p');
  });

  it('unschedulable pods are retried after 5 minutes even without an event', () => {
    const { clock, queue, popName } = setup();
    queue.add(podInfo(pod('p')));
    const entry = queue.pop();
    if (entry === undefined) throw new Error('empty');
    queue.unschedulable(entry);
    clock.advance(schedulerLimits.podMaxInUnschedulableMs - 1);
    queue.flushStale();
    expect(popName()).toBeUndefined();
    clock.advance(1);
    queue.flushStale();
    expect(popName()).toBe('p');
  });

  it('a deleted pod is never popped; done forgets an in-flight pod', () => {
    const { queue, popName } = setup();
    queue.add(podInfo(pod('a')));
    queue.add(podInfo(pod('b')));
    queue.delete('default/a');
    expect(popName()).toBe('b');
    queue.done('default/b');
    expect(queue.size).toBe(0);
  });

  it('is bounded', () => {
    const clock = new SimulatedClock();
    const queue = new SchedulingQueue(clock, { ...schedulerLimits, queuedPodsMax: 2 });
    queue.add(podInfo(pod('a')));
    queue.add(podInfo(pod('b')));
    expect(() => queue.add(podInfo(pod('c')))).toThrow(SchedulingQueueFullError);
  });
});
