/** `kubus agent` flags into the NodeConfig: labels, taints, system-reserved, durations, runtime, counts; malformed values refused with their form. */
import { describe, expect, it } from 'vitest';
import {
  AgentFlagError, nodeConfigFromFlags, parseHollowCount, parseLabels, parseNatsUrls, parseRuntime, parseSystemReserved, parseTaints, type AgentFlags,
} from '../../actors/cli/commands/agent-flags.js';

const base: AgentFlags = { dir: '/tmp/a', runtime: 'process', maxPods: '110', nodeLeaseRenewInterval: '10s', logLevel: 'info' };

describe('kubus agent flags', () => {
  it('labels k=v,… and none', () => {
    expect(parseLabels('zone=a, tier=web')).toEqual({ zone: 'a', tier: 'web' });
    expect(parseLabels(undefined)).toEqual({});
    expect(() => parseLabels('novalue')).toThrow(/key=value/);
  });

  it('taints key[=value]:Effect', () => {
    expect(parseTaints('dedicated=gpu:NoSchedule,spot:PreferNoSchedule')).toEqual([
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }, { key: 'spot', effect: 'PreferNoSchedule' },
    ]);
    expect(() => parseTaints('a=b:Sometimes')).toThrow(/NoSchedule, PreferNoSchedule, NoExecute/);
    expect(() => parseTaints('a=b')).toThrow(AgentFlagError);
  });

  it('system-reserved takes known resources with quantities', () => {
    expect(parseSystemReserved('cpu=500m,memory=1Gi')).toEqual({ cpu: '500m', memory: '1Gi' });
    expect(() => parseSystemReserved('gpu=1')).toThrow(/not one of/);
    expect(() => parseSystemReserved('memory=lots')).toThrow(/not a quantity/);
  });

  it('builds the NodeConfig with Kubernetes defaults and the given node IP', () => {
    const config = nodeConfigFromFlags({ ...base, labels: 'a=b', maxPods: '50', nodeLeaseRenewInterval: '2s', nodeIp: '10.0.0.5' });
    expect(config).toMatchObject({ labels: { a: 'b' }, maxPods: 50, leaseRenewIntervalMs: 2_000, leaseDurationSeconds: 40, statusReportIntervalMs: 300_000, nodeIp: '10.0.0.5' });
    expect(nodeConfigFromFlags(base, () => '192.0.2.1').nodeIp).toBe('192.0.2.1');
  });

  it('refuses bad numbers and durations with the expected form', () => {
    expect(() => nodeConfigFromFlags({ ...base, maxPods: '0' })).toThrow(/--max-pods/);
    expect(() => nodeConfigFromFlags({ ...base, nodeLeaseRenewInterval: 'soon' })).toThrow(/duration like/);
    expect(() => nodeConfigFromFlags({ ...base, nodeLeaseRenewInterval: '60s' })).toThrow(/below the Lease duration/);
  });

  it('runtime, NATS URLs and hollow counts', () => {
    expect(parseRuntime('hollow')).toBe('hollow');
    expect(() => parseRuntime('containerd')).toThrow(/cri, docker, process, hollow/);
    expect(parseNatsUrls('nats://a:4222, nats://b:4222')).toEqual(['nats://a:4222', 'nats://b:4222']);
    expect(parseNatsUrls(undefined)).toBeUndefined();
    expect(() => parseNatsUrls(' , ')).toThrow(/at least one URL/);
    expect(parseHollowCount('500')).toBe(500);
    expect(parseHollowCount(undefined)).toBeNull();
    expect(() => parseHollowCount('-1')).toThrow(/positive whole number/);
  });
});
