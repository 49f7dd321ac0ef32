/**
 * Txns: every compare target and op against present and absent keys (etcd's rules: an absent key
 * reads 0, a value compare on it is false), one revision for the whole branch, reads inside the
 * txn seeing the txn's earlier writes, etcd's refusal of a key written twice in one branch, and
 * that a refused txn (missing lease in the last op) writes nothing even in a kept transaction.
 */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError, LeaseNotFoundError } from '../../store/errors.js';
import type { Compare, TxnOp, WriteResult } from '../../store/mvcc/types.js';
import { storeOn, str, text, valueOf } from './harness.js';

function succeeded(result: WriteResult): boolean {
  if (result.type !== 'txn') throw new Error(`expected a txn result, got ${result.type}`);
  return result.succeeded;
}

describe('MvccStore txn', () => {
  it('evaluates every target and op', () => {
    const { apply, put } = storeOn();
    put('other', 'x'); // 1
    put('k', 'b'); // 2
    put('k', 'b'); // 3: k version 2, create 2, mod 3
    const check = (compare: Compare): boolean => succeeded(apply({ type: 'txn', request: { compare: [compare], success: [], failure: [] } }));
    const cases: [Compare, boolean][] = [
      [{ key: 'k', target: 'version', op: 'equal', value: 2 }, true],
      [{ key: 'k', target: 'version', op: 'greater', value: 1 }, true],
      [{ key: 'k', target: 'version', op: 'less', value: 2 }, false],
      [{ key: 'k', target: 'createRevision', op: 'equal', value: 2 }, true],
      [{ key: 'k', target: 'createRevision', op: 'notEqual', value: 2 }, false],
      [{ key: 'k', target: 'modRevision', op: 'equal', value: 3 }, true],
      [{ key: 'k', target: 'modRevision', op: 'less', value: 3 }, false],
      [{ key: 'k', target: 'lease', op: 'equal', value: 0 }, true],
      [{ key: 'k', target: 'value', op: 'equal', value: text('b') }, true],
      [{ key: 'k', target: 'value', op: 'greater', value: text('a') }, true],
      [{ key: 'k', target: 'value', op: 'less', value: text('a') }, false],
      [{ key: 'k', target: 'value', op: 'notEqual', value: text('b') }, false],
      [{ key: 'absent', target: 'version', op: 'equal', value: 0 }, true],
      [{ key: 'absent', target: 'createRevision', op: 'equal', value: 0 }, true],
      [{ key: 'absent', target: 'modRevision', op: 'greater', value: 0 }, false],
      [{ key: 'absent', target: 'value', op: 'notEqual', value: text('b') }, false],
      [{ key: 'absent', target: 'value', op: 'equal', value: text('') }, false],
    ];
    for (const [compare, expected] of cases) expect(check(compare), JSON.stringify(compare)).toBe(expected);
  });

  it('applies the chosen branch at one revision, with responses in order', () => {
    const { store, apply, put } = storeOn();
    put('a', '1'); // 1
    const success: TxnOp[] = [
      { type: 'put', request: { key: 'a', value: text('2'), prevKv: true } },
      { type: 'put', request: { key: 'b', value: text('3') } },
      { type: 'range', request: { key: '', prefix: true } },
      { type: 'delete', request: { key: 'c' } },
    ];
    const result = apply({ type: 'txn', request: { compare: [{ key: 'a', target: 'value', op: 'equal', value: text('1') }], success, failure: [] } });
    expect(result).toMatchObject({ type: 'txn', revision: 2, succeeded: true });
    if (result.type !== 'txn') return;
    expect(result.responses.map((response) => response.type)).toEqual(['put', 'put', 'range', 'delete']);
    expect(result.responses[0]).toMatchObject({ type: 'put', revision: 2, prevKv: { version: 1 } });
    const range = result.responses[2];
    expect(range?.type === 'range' && range.result.kvs.map((kv) => `${kv.key}=${str(kv.value)}`)).toEqual(['a=2', 'b=3']);
    expect(range?.type === 'range' && range.result.revision).toBe(2);
    expect(result.responses[3]).toMatchObject({ type: 'delete', deleted: 0 });
    expect(store.lastEvents().map((event) => `${event.type}:${event.kv.key}@${event.kv.modRevision}`)).toEqual(['put:a@2', 'put:b@2']);
    expect(store.currentRevision()).toBe(2);
  });

  it('a range with an explicit revision inside a txn reads history, not the txn\'s own writes', () => {
    const { apply, put } = storeOn();
    put('a', '1'); // 1
    const result = apply({
      type: 'txn',
      request: { compare: [], success: [{ type: 'put', request: { key: 'a', value: text('2') } }, { type: 'range', request: { key: 'a', revision: 1 } }, { type: 'range', request: { key: 'a' } }], failure: [] },
    });
    if (result.type !== 'txn') throw new Error('expected a txn result');
    const values = result.responses.flatMap((response) => (response.type === 'range' ? response.result.kvs.map((kv) => str(kv.value)) : []));
    expect(values).toEqual(['1', '2']);
  });

  it('runs the failure branch when a compare fails, and a branch of reads keeps the revision', () => {
    const { store, apply, put } = storeOn();
    put('a', '1');
    const result = apply({
      type: 'txn',
      request: {
        compare: [{ key: 'a', target: 'version', op: 'equal', value: 0 }],
        success: [{ type: 'put', request: { key: 'a', value: text('never') } }],
        failure: [{ type: 'range', request: { key: 'a' } }, { type: 'delete', request: { key: 'nothing' } }],
      },
    });
    expect(result).toMatchObject({ succeeded: false, revision: 1 });
    expect(result.type === 'txn' && result.responses[0]).toMatchObject({ type: 'range', result: { revision: 1, count: 1 } });
    expect(result.type === 'txn' && result.responses[1]).toMatchObject({ type: 'delete', revision: 1, deleted: 0 });
    expect(valueOf(store, 'a')).toBe('1');
    expect(store.lastEvents()).toEqual([]);
  });

  it('refuses a branch that writes a key twice (etcd), and a txn over the op limit', () => {
    const { applyKeepingRefusals } = storeOn();
    const put = (key: string): TxnOp => ({ type: 'put', request: { key, value: text('v') } });
    expect(applyKeepingRefusals({ type: 'txn', request: { compare: [], success: [put('a'), put('a')], failure: [] } })).toBeInstanceOf(InvalidRequestError);
    expect(applyKeepingRefusals({ type: 'txn', request: { compare: [], success: [put('p/a'), { type: 'delete', request: { key: 'p/', prefix: true } }], failure: [] } })).toBeInstanceOf(InvalidRequestError);
    const many = Array.from({ length: 200 }, (_, i) => put(`k${i}`));
    expect(applyKeepingRefusals({ type: 'txn', request: { compare: [], success: many, failure: [] } })).toBeInstanceOf(InvalidRequestError);
  });

  it('refuses the whole txn before any write when one op names a missing lease', () => {
    const { store, applyKeepingRefusals, put } = storeOn();
    put('a', '1');
    const before = store.hash();
    const error = applyKeepingRefusals({
      type: 'txn',
      request: {
        compare: [],
        success: [
          { type: 'put', request: { key: 'a', value: text('2') } },
          { type: 'delete', request: { key: 'z' } },
          { type: 'put', request: { key: 'b', value: text('3'), lease: 77 } },
        ],
        failure: [],
      },
    });
    expect(error).toBeInstanceOf(LeaseNotFoundError);
    expect(store.hash()).toBe(before);
    expect(store.currentRevision()).toBe(1);
    expect(store.lastEvents()).toEqual([]);
  });

  it('a compare-and-set as the simulation workload builds it', () => {
    const { store, apply } = storeOn();
    const cas = (expected: string | null, value: string) =>
      succeeded(apply({
        type: 'txn',
        request: {
          compare: [expected === null ? { key: 'r', target: 'version', op: 'equal', value: 0 } : { key: 'r', target: 'value', op: 'equal', value: text(expected) }],
          success: [{ type: 'put', request: { key: 'r', value: text(value) } }],
          failure: [],
        },
      }));
    expect(cas(null, 'one')).toBe(true);
    expect(cas(null, 'two')).toBe(false);
    expect(cas('zero', 'two')).toBe(false);
    expect(cas('one', 'two')).toBe(true);
    expect(valueOf(store, 'r')).toBe('two');
  });
});
