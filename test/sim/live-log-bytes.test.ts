/**
 * The log-bytes verdict of seeds with a tiny snapshot byte bound: a member whose live log outgrew
 * the bound (no snapshot by bytes) fails the seed; logs at or under it pass. And about one seed in
 * five draws the bound, with an entry interval no seed reaches.
 */
import { describe, expect, it } from 'vitest';
import { liveLogVerdict, logBytesLimits, topologyOf } from '../../scenarios/sim/run-seed.js';

describe('live log bytes verdict', () => {
  it('fails a member whose live log outgrew the bound', () => {
    expect(liveLogVerdict([{ id: 's1', bytes: 922 }, { id: 's2', bytes: 5_131 }])).toBe('log bytes: a snapshot is due every 1024 applied bytes, yet the live log holds s2: 5131 bytes (bound 2048)');
  });

  it('passes logs at or under the bound', () => {
    expect(liveLogVerdict([{ id: 's1', bytes: 0 }, { id: 's2', bytes: logBytesLimits.liveLogBytesMax }])).toBeNull();
  });

  it('draws the byte bound in some seeds, always with an unreachable entry interval', () => {
    const bounded = Array.from({ length: 200 }, (_, i) => topologyOf(i + 1)).filter((topology) => topology.snapshotEveryBytes !== undefined);
    expect(bounded.length).toBeGreaterThan(20);
    expect(bounded.every((topology) => topology.snapshotEveryBytes === 1_024 && topology.snapshotEveryEntries === 1_000_000)).toBe(true);
  });
});
