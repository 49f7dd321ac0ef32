/**
 * Conditions keep lastTransitionTime across updates that do not change the status and move it
 * when the status changes; structured label selectors match as Kubernetes' LabelSelectorAsSelector.
 */
import { describe, expect, test } from 'vitest';
import { getCondition, selectorMatches, setCondition } from '../../actors/objects/index.js';

describe('setCondition', () => {
  const t1 = '2026-01-01T00:00:00Z';
  const t2 = '2026-01-01T00:05:00Z';

  test('a new condition gets lastTransitionTime now', () => {
    expect(setCondition([], { type: 'Ready', status: 'True', reason: 'KubeletReady' }, t1)).toEqual([{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastTransitionTime: t1 }]);
  });

  test('same status: the transition time stays, other fields change; new status: it moves', () => {
    const first = setCondition([], { type: 'Ready', status: 'True', reason: 'A' }, t1);
    const same = setCondition(first, { type: 'Ready', status: 'True', reason: 'B' }, t2);
    expect(getCondition(same, 'Ready')).toEqual({ type: 'Ready', status: 'True', reason: 'B', lastTransitionTime: t1 });
    const changed = setCondition(same, { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown' }, t2);
    expect(getCondition(changed, 'Ready')).toEqual({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', lastTransitionTime: t2 });
  });

  test('other conditions are kept in place; the input is not modified', () => {
    const before: { type: string; status: string; lastTransitionTime?: string }[] = [
      { type: 'MemoryPressure', status: 'False', lastTransitionTime: t1 }, { type: 'Ready', status: 'True', lastTransitionTime: t1 },
    ];
    const after = setCondition(before, { type: 'Ready', status: 'False' }, t2);
    expect(after.map((c) => `${c.type}=${c.status}@${c.lastTransitionTime}`)).toEqual([`MemoryPressure=False@${t1}`, `Ready=False@${t2}`]);
    expect(before[1]?.status).toBe('True');
  });
});

describe('selectorMatches', () => {
  const labels = { app: 'web', tier: 'front' };

  test('matchLabels and every operator of matchExpressions', () => {
    expect(selectorMatches({ matchLabels: { app: 'web' } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'db' } }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, labels)).toBe(false);
  });

  test('all requirements must hold; an empty selector selects everything, a missing one nothing; an unknown operator nothing', () => {
    expect(selectorMatches({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] }, labels)).toBe(false);
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches(undefined, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'Gt', values: ['1'] }] }, labels)).toBe(false);
  });
});
