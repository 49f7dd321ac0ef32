/**
 * The driver snapshots (and compacts the log) when the data applied since its last snapshot
 * passes `snapshotEveryBytes`, not only after `snapshotEveryEntries` entries: with the count
 * alone, 10,000 entries of 1.5 MiB (15 GiB) would sit in memory and on disk between snapshots.
 * Before the fix no snapshot was taken below the entry count, whatever the bytes.
 *
 * How: three real drivers with an entry interval far away (10,000) and a byte interval of 4 KiB;
 * 1 KiB writes must make every member snapshot every few entries, and the log each member holds
 * after its snapshot stays under the byte interval plus one write.
 */
import { describe, expect, it } from 'vitest';
import { DriverCluster } from './driver-cluster.js';

const valueBytes = 1024;
const snapshotEveryBytes = 4 * 1024;

describe('the snapshot interval is bounded in bytes', () => {
  it('every member snapshots once the applied bytes pass snapshotEveryBytes', async () => {
    const cluster = new DriverCluster(['s1', 's2', 's3'], { snapshotEveryEntries: 10_000, snapshotEveryBytes });
    cluster.elect('s1');
    const leader = cluster.driver('s1');
    const start = leader.status().snapshotIndex;
    for (let i = 0; i < 20; i++) {
      const done = leader.write({ type: 'put', request: { key: `k${i}`, value: new Uint8Array(valueBytes).fill(i) } }, null);
      cluster.stabilize();
      await done;
    }
    for (const id of ['s1', 's2', 's3']) {
      const status = cluster.driver(id).status();
      expect(status.appliedIndex, id).toBe(start + 1 + 20);
      // Snapshots were taken along the way, not only at the start (the bootstrap one at index 1).
      expect(status.snapshotIndex, id).toBeGreaterThan(start + 1);
      // What is left after the snapshot is less than the byte interval: at most 4 entries of ~1 KiB.
      expect(status.appliedIndex - status.snapshotIndex, id).toBeLessThanOrEqual(snapshotEveryBytes / valueBytes);
    }
  });
});
