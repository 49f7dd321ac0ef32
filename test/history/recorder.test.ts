/**
 * The recorder keeps what the checker relies on: invoke order and completion order from one
 * counter (real-time order even when the clock does not move), each outcome exactly once, and
 * snapshots that later completions do not change.
 */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../bus/assert.js';
import { HistoryRecorder } from '../../scenarios/history/index.js';
import { get, put } from './register-histories.js';

describe('HistoryRecorder', () => {
  it('orders events of the same millisecond by when they were recorded', () => {
    const recorder = new HistoryRecorder(() => 7);
    const first = recorder.invoke('client1', put('k', 'a'));
    first.ok(undefined);
    recorder.invoke('client2', get('k')).ok('a');
    const [a, b] = recorder.operations();
    expect(a).toMatchObject({ id: 0, status: 'ok', invokeMs: 7, completeMs: 7, invokeOrder: 0, completeOrder: 1 });
    expect(b).toMatchObject({ id: 1, status: 'ok', result: 'a', invokeOrder: 2, completeOrder: 3 });
  });

  it('records fail, unknown and pending outcomes', () => {
    let ms = 0;
    const recorder = new HistoryRecorder(() => ms);
    const failed = recorder.invoke('c', put('k', 'a'));
    const unknown = recorder.invoke('c', put('k', 'b'));
    recorder.invoke('c', get('k'));
    ms = 5;
    failed.fail();
    unknown.unknown();
    expect(recorder.operations().map((op) => [op.status, op.completeMs])).toEqual([['fail', 5], ['unknown', 5], ['pending', null]]);
  });

  it('returns snapshots that later completions leave alone', () => {
    const recorder = new HistoryRecorder(() => 0);
    const handle = recorder.invoke('c', get('k'));
    const before = recorder.operations();
    handle.ok(null);
    expect(before[0]?.status).toBe('pending');
    expect(recorder.operations()[0]?.status).toBe('ok');
  });

  it('refuses a second outcome and a result of the wrong shape', () => {
    const recorder = new HistoryRecorder(() => 0);
    const handle = recorder.invoke('c', put('k', 'a'));
    handle.ok(undefined);
    expect(() => handle.fail()).toThrow(AssertionError);
    expect(() => recorder.invoke('c', get('k')).ok(true)).toThrow(AssertionError);
  });

  it('refuses a clock that runs backwards, which would break the real-time order', () => {
    let ms = 10;
    const recorder = new HistoryRecorder(() => ms);
    recorder.invoke('c', get('k'));
    ms = 9;
    expect(() => recorder.invoke('c', get('k'))).toThrow(AssertionError);
  });
});
