/**
 * Which volume a claim binds to (actors/controllers/volume/volume-matching.ts), case by case as
 * Kubernetes' FindMatchingVolume decides: class, capacity, access modes, selector, volume mode,
 * phase, claimRef, node affinity, pre-binding both ways, and the smallest (narrowest) fit winning.
 */
import { describe, expect, it } from 'vitest';
import { findBestVolume, volumeMismatch } from '../../actors/controllers/volume/index.js';
import { pv, pvc } from './volume-fixtures.js';

const claim = pvc('data', { size: '2Gi', cls: 'fast' });

describe('volumeMismatch', () => {
  it.each([
    ['fits', pv('a', { size: '2Gi', cls: 'fast' }), undefined],
    ['too small', pv('a', { size: '1Gi', cls: 'fast' }), 'capacity'],
    ['wrong class', pv('a', { size: '2Gi', cls: 'slow' }), 'storageClass'],
    ['no class for a classed claim', pv('a', { size: '2Gi' }), 'storageClass'],
    ['wrong access mode', pv('a', { size: '2Gi', cls: 'fast', modes: ['ReadOnlyMany'] }), 'accessModes'],
    ['more access modes than asked', pv('a', { size: '2Gi', cls: 'fast', modes: ['ReadWriteOnce', 'ReadOnlyMany'] }), undefined],
    ['block volume for a filesystem claim', pv('a', { size: '2Gi', cls: 'fast', mode: 'Block' }), 'volumeMode'],
    ['released', pv('a', { size: '2Gi', cls: 'fast', phase: 'Released' }), 'notAvailable'],
    ['claimed by another', pv('a', { size: '2Gi', cls: 'fast', claimRef: { namespace: 'ns', name: 'other', uid: 'u2' } }), 'claimed'],
    ['being deleted', pv('a', { size: '2Gi', cls: 'fast', deleting: true }), 'deleting'],
  ] as const)('%s', (_name, volume, expected) => {
    expect(volumeMismatch(volume, claim)).toBe(expected);
  });

  it('honours the claim selector (matchLabels and matchExpressions)', () => {
    const selective = pvc('data', { cls: 'fast', selector: { matchLabels: { tier: 'gold' }, matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] } });
    expect(volumeMismatch(pv('a', { cls: 'fast', labels: { tier: 'gold', zone: 'a' } }), selective)).toBeUndefined();
    expect(volumeMismatch(pv('a', { cls: 'fast', labels: { tier: 'gold', zone: 'c' } }), selective)).toBe('selector');
    expect(volumeMismatch(pv('a', { cls: 'fast' }), selective)).toBe('selector');
  });

  it('a volume pre-bound to the claim skips class and phase but not size; by name only or by uid', () => {
    const byName = pv('a', { size: '2Gi', cls: 'other', phase: 'Pending', claimRef: { namespace: 'ns', name: 'data' } });
    expect(volumeMismatch(byName, claim)).toBeUndefined();
    expect(volumeMismatch(pv('a', { size: '2Gi', claimRef: { namespace: 'ns', name: 'data', uid: 'uid-data' } }), claim)).toBeUndefined();
    expect(volumeMismatch(pv('a', { size: '2Gi', claimRef: { namespace: 'ns', name: 'data', uid: 'old-uid' } }), claim)).toBe('claimed');
    expect(volumeMismatch(pv('a', { size: '1Gi', claimRef: { namespace: 'ns', name: 'data' } }), claim)).toBe('capacity');
  });

  it('with a chosen node only reachable volumes; binding delayed without one, only pre-bound volumes', () => {
    const onN1 = pv('a', { size: '2Gi', cls: 'fast', node: 'n1' });
    expect(volumeMismatch(onN1, claim, { node: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } } })).toBeUndefined();
    expect(volumeMismatch(onN1, claim, { node: { name: 'n2', labels: { 'kubernetes.io/hostname': 'n2' } } })).toBe('nodeAffinity');
    expect(volumeMismatch(onN1, claim, { delayBinding: true })).toBe('nodeAffinity');
    expect(volumeMismatch(pv('b', { size: '2Gi', claimRef: { namespace: 'ns', name: 'data', uid: 'uid-data' } }), claim, { delayBinding: true })).toBeUndefined();
  });
});

describe('findBestVolume', () => {
  it('picks the smallest volume that fits, and nothing when none does', () => {
    const volumes = [pv('big', { size: '10Gi', cls: 'fast' }), pv('small', { size: '1Gi', cls: 'fast' }), pv('right', { size: '3Gi', cls: 'fast' }), pv('other-class', { size: '2Gi', cls: 'slow' })];
    expect(findBestVolume(claim, volumes)?.metadata?.name).toBe('right');
    expect(findBestVolume(pvc('huge', { size: '20Gi', cls: 'fast' }), volumes)).toBeUndefined();
  });

  it('prefers the narrowest access modes, then size, then name', () => {
    const volumes = [pv('wide', { size: '2Gi', cls: 'fast', modes: ['ReadWriteOnce', 'ReadWriteMany'] }), pv('b', { size: '5Gi', cls: 'fast' }), pv('a', { size: '5Gi', cls: 'fast' })];
    expect(findBestVolume(claim, volumes)?.metadata?.name).toBe('a');
  });

  it('a volume pre-bound to the claim wins over a smaller free one', () => {
    const volumes = [pv('free', { size: '2Gi', cls: 'fast' }), pv('reserved', { size: '8Gi', cls: 'fast', claimRef: { namespace: 'ns', name: 'data' } })];
    expect(findBestVolume(claim, volumes)?.metadata?.name).toBe('reserved');
  });

  it('binary and decimal quantities compare by bytes', () => {
    expect(findBestVolume(pvc('c', { size: '1G', cls: 'fast' }), [pv('mi', { size: '954Mi', cls: 'fast' })])?.metadata?.name).toBe('mi');
    expect(findBestVolume(pvc('c', { size: '1Gi', cls: 'fast' }), [pv('g', { size: '1G', cls: 'fast' })])).toBeUndefined();
  });
});
