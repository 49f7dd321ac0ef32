/**
 * Node selectors (actors/objects/node-selector.ts) as a PersistentVolume's `spec.nodeAffinity`
 * and a pod's required node affinity use them: terms ORed, requirements ANDed, every operator, and
 * malformed input selecting nothing rather than everything.
 */
import { describe, expect, it } from 'vitest';
import { nodeSelectorMatches, nodeSelectorTermMatches } from '../../actors/objects/index.js';

const node = { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1', zone: 'a', cores: '8' } };

describe('node selectors', () => {
  it.each([
    [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }, true],
    [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] }, false],
    [{ key: 'zone', operator: 'NotIn', values: ['b'] }, true],
    [{ key: 'zone', operator: 'NotIn', values: ['a'] }, false],
    [{ key: 'missing', operator: 'NotIn', values: ['a'] }, true],
    [{ key: 'zone', operator: 'Exists' }, true],
    [{ key: 'missing', operator: 'Exists' }, false],
    [{ key: 'missing', operator: 'DoesNotExist' }, true],
    [{ key: 'cores', operator: 'Gt', values: ['4'] }, true],
    [{ key: 'cores', operator: 'Gt', values: ['8'] }, false],
    [{ key: 'cores', operator: 'Lt', values: ['9'] }, true],
    [{ key: 'zone', operator: 'Gt', values: ['1'] }, false],
    [{ key: 'cores', operator: 'Gt', values: ['1', '2'] }, false],
    [{ key: 'zone', operator: 'Like', values: ['a'] }, false],
  ])('%j → %s', (requirement, expected) => {
    expect(nodeSelectorTermMatches({ matchExpressions: [requirement] }, node)).toBe(expected);
  });

  it('matchFields reads metadata.name only', () => {
    expect(nodeSelectorTermMatches({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }, node)).toBe(true);
    expect(nodeSelectorTermMatches({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }, node)).toBe(false);
    expect(nodeSelectorTermMatches({ matchFields: [{ key: 'spec.podCIDR', operator: 'Exists' }] }, node)).toBe(false);
  });

  it('ANDs a term, ORs the terms, and an empty term or selector selects nothing', () => {
    const inA = { key: 'zone', operator: 'In', values: ['a'] };
    const onN2 = { key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] };
    expect(nodeSelectorTermMatches({ matchExpressions: [inA, onN2] }, node)).toBe(false);
    expect(nodeSelectorMatches({ nodeSelectorTerms: [{ matchExpressions: [onN2] }, { matchExpressions: [inA] }] }, node)).toBe(true);
    expect(nodeSelectorMatches({ nodeSelectorTerms: [{}] }, node)).toBe(false);
    expect(nodeSelectorMatches({ nodeSelectorTerms: [] }, node)).toBe(false);
    expect(nodeSelectorMatches(undefined, node)).toBe(false);
  });
});
