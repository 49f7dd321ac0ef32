/**
 * Tolerations against taints, as the scheduler and the taint eviction controller read them:
 * key/value/effect matching with Equal and Exists, and how long a pod may stay on a node with
 * NoExecute taints (the smallest tolerationSeconds, 0 when one is not tolerated, unbounded when
 * every matching toleration is unbounded).
 */
import { describe, expect, test } from 'vitest';
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { firstUntoleratedTaint, minTolerationSeconds, nodeTaints, tolerates } from '../../actors/objects/index.js';

const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
const notReady: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' };
const gpu: Taint = { key: 'gpu', value: 'a100', effect: 'NoSchedule' };

describe('tolerates', () => {
  test('Equal needs key, value and (when given) effect to match; an empty value equals no value', () => {
    expect(tolerates({ key: 'gpu', operator: 'Equal', value: 'a100', effect: 'NoSchedule' }, gpu)).toBe(true);
    expect(tolerates({ key: 'gpu', value: 'a100' }, gpu)).toBe(true); // operator defaults to Equal, any effect
    expect(tolerates({ key: 'gpu', value: 'h100' }, gpu)).toBe(false);
    expect(tolerates({ key: 'gpu', value: 'a100', effect: 'NoExecute' }, gpu)).toBe(false);
    expect(tolerates({ key: 'node.kubernetes.io/unreachable', operator: 'Equal', value: '' }, unreachable)).toBe(true);
  });

  test('Exists ignores the value; an empty key with Exists tolerates every taint', () => {
    expect(tolerates({ key: 'gpu', operator: 'Exists' }, gpu)).toBe(true);
    expect(tolerates({ operator: 'Exists' }, unreachable)).toBe(true);
    expect(tolerates({ operator: 'Exists', effect: 'NoSchedule' }, unreachable)).toBe(false);
  });

  test('firstUntoleratedTaint names the first taint no toleration covers', () => {
    expect(firstUntoleratedTaint([gpu, unreachable], [{ key: 'gpu', operator: 'Exists' }])).toEqual(unreachable);
    expect(firstUntoleratedTaint([gpu], [{ key: 'gpu', operator: 'Exists' }])).toBeUndefined();
  });

  test('the node lifecycle taints have the keys Kubernetes uses', () => {
    expect(JSON.stringify(nodeTaints)).toContain('node.kubernetes.io/unreachable');
    expect(JSON.stringify(nodeTaints)).toContain('node.kubernetes.io/not-ready');
  });
});

describe('minTolerationSeconds', () => {
  const tolerations: Toleration[] = [
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
  ];

  test('the smallest tolerationSeconds among the NoExecute taints', () => {
    expect(minTolerationSeconds([unreachable], tolerations)).toBe(300);
    expect(minTolerationSeconds([unreachable, notReady], tolerations)).toBe(2);
  });

  test('an untolerated NoExecute taint: 0 (evict now); NoSchedule taints do not count', () => {
    expect(minTolerationSeconds([unreachable], [])).toBe(0);
    expect(minTolerationSeconds([gpu], [])).toBe(Infinity);
  });

  test('tolerated without tolerationSeconds: forever; a negative value is 0', () => {
    expect(minTolerationSeconds([unreachable], [{ operator: 'Exists' }])).toBe(Infinity);
    expect(minTolerationSeconds([unreachable], [{ operator: 'Exists', tolerationSeconds: -5 }])).toBe(0);
  });
});
