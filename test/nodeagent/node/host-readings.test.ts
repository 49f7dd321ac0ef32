/** Host readings from sample /proc text, and the pressure conditions decided from them. */
import { describe, expect, it } from 'vitest';
import {
  decidePressures, parseLoadavgProcesses, parseMeminfo, parseOsRelease, parsePidMax, pressureThresholds, type HostReadings,
} from '../../../nodeagent/node/host-readings.js';
import { tmpdir } from 'node:os';
import { goArch, hostReadingsCacheMs, readHostFacts, readHostReadings } from '../../../nodeagent/node/host.js';

const meminfo = `MemTotal:       16384000 kB
MemFree:          512000 kB
MemAvailable:    8192000 kB
Buffers:          100000 kB
Cached:          4000000 kB
SwapTotal:             0 kB
`;

const healthy: HostReadings = {
  memoryTotalBytes: 16 * 2 ** 30, memoryAvailableBytes: 8 * 2 ** 30,
  diskTotalBytes: 100 * 2 ** 30, diskAvailableBytes: 50 * 2 ** 30,
  processes: 400, pidMax: 4_194_304,
};

describe('host readings', () => {
  it('reads total and available memory from /proc/meminfo', () => {
    expect(parseMeminfo(meminfo)).toEqual({ totalBytes: 16_384_000 * 1024, availableBytes: 8_192_000 * 1024 });
  });

  it('falls back to free + buffers + cached on kernels without MemAvailable', () => {
    const old = meminfo.replace(/^MemAvailable:.*\n/m, '');
    expect(parseMeminfo(old)?.availableBytes).toBe((512_000 + 100_000 + 4_000_000) * 1024);
  });

  it('says nothing for text without MemTotal', () => {
    expect(parseMeminfo('garbage')).toBeNull();
  });

  it('reads the process count from /proc/loadavg and pid_max', () => {
    expect(parseLoadavgProcesses('0.52 0.58 0.59 3/1234 56789\n')).toBe(1234);
    expect(parseLoadavgProcesses('')).toBeNull();
    expect(parsePidMax('4194304\n')).toBe(4_194_304);
    expect(parsePidMax('x')).toBeNull();
  });

  it('takes PRETTY_NAME from os-release, quoted or not, else NAME VERSION', () => {
    expect(parseOsRelease('NAME="Ubuntu"\nVERSION="24.04 LTS (Noble Numbat)"\nPRETTY_NAME="Ubuntu 24.04 LTS"\nID=ubuntu\n')).toBe('Ubuntu 24.04 LTS');
    expect(parseOsRelease("NAME='Alpine Linux'\nVERSION=3.20\n")).toBe('Alpine Linux 3.20');
    expect(parseOsRelease('')).toBe('Linux');
  });

  it('names architectures as Go does', () => {
    expect([goArch('x64'), goArch('arm64'), goArch('ia32')]).toEqual(['amd64', 'arm64', '386']);
  });
});

describe('pressure conditions', () => {
  const byType = (readings: HostReadings): Record<string, boolean> => Object.fromEntries(decidePressures(readings).map((p) => [p.type, p.pressure]));

  it('reports none on a healthy host, with the kubelet reasons', () => {
    const pressures = decidePressures(healthy);
    expect(pressures.map((p) => [p.type, p.pressure, p.reason])).toEqual([
      ['MemoryPressure', false, 'KubeletHasSufficientMemory'],
      ['DiskPressure', false, 'KubeletHasNoDiskPressure'],
      ['PIDPressure', false, 'KubeletHasSufficientPID'],
    ]);
  });

  it('memory pressure below 100Mi available (the kubelet eviction default), not at it', () => {
    expect(byType({ ...healthy, memoryAvailableBytes: pressureThresholds.memoryAvailableBytes })['MemoryPressure']).toBe(false);
    const low = decidePressures({ ...healthy, memoryAvailableBytes: 99 * 2 ** 20 })[0];
    expect([low?.pressure, low?.reason, low?.message]).toEqual([true, 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available: 99Mi < 100Mi']);
  });

  it('disk pressure below 10 % of nodefs available', () => {
    expect(byType({ ...healthy, diskAvailableBytes: 10 * 2 ** 30 })['DiskPressure']).toBe(false);
    expect(byType({ ...healthy, diskAvailableBytes: 9 * 2 ** 30 })['DiskPressure']).toBe(true);
    // statfs failed: no reading is no pressure (the kubelet does not evict on a missing signal).
    expect(byType({ ...healthy, diskTotalBytes: 0, diskAvailableBytes: 0 })['DiskPressure']).toBe(false);
  });

  it('PID pressure when fewer than 10 % of pid_max are left; unknown counts are no pressure', () => {
    expect(byType({ ...healthy, processes: 950, pidMax: 1000 })['PIDPressure']).toBe(true);
    expect(byType({ ...healthy, processes: 900, pidMax: 1000 })['PIDPressure']).toBe(false);
    expect(byType({ ...healthy, processes: null })['PIDPressure']).toBe(false);
  });
});

describe('this host', () => {
  it('has facts and readings the Node can report', () => {
    const facts = readHostFacts(tmpdir());
    expect(facts.cpuCores).toBeGreaterThan(0);
    expect(facts.memoryBytes).toBeGreaterThan(0);
    expect(facts.diskBytes).toBeGreaterThan(0);
    expect(facts.operatingSystem).toBe('linux');
    const readings = readHostReadings(tmpdir(), 0);
    expect(readings.memoryAvailableBytes).toBeGreaterThan(0);
    expect(readings.diskAvailableBytes).toBeGreaterThan(0);
    expect(readings.processes).toBeGreaterThan(0);
  });

  it('shares the /proc readings between Node parts for a short while', () => {
    const first = readHostReadings(tmpdir(), 1_000_000);
    const soon = readHostReadings(tmpdir(), 1_000_000 + hostReadingsCacheMs - 1);
    expect(soon.processes).toBe(first.processes);
    expect(soon.memoryAvailableBytes).toBe(first.memoryAvailableBytes);
  });
});
