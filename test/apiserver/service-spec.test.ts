/**
 * Kubernetes' Service semantics as pure functions: the defaults, the update preparation (omitted
 * addresses kept, type-dependent fields dropped on a type change), the validation wording, the
 * allocation plan (what a write claims and releases, out-of-range and full-range causes) and the
 * repair pass's choice of leaked records.
 */
import { describe, expect, it } from 'vitest';
import { leakedRecords, unrecordedAddresses, parseServiceRanges, planAllocation, defaultService, prepareServiceUpdate } from '../../actors/apiserver/services/index.js';
import { validate } from '../../actors/apiserver/validation.js';
import { findResource, type ResourceInfo } from '../../actors/apiserver/registry/index.js';
import type { KubeObject } from '../../actors/apiserver/types.js';

const servicesInfo = findResource('', 'v1', 'services') as ResourceInfo;
const ranges = parseServiceRanges({ serviceClusterIpRange: '127.96.0.0/29', serviceNodePortRange: '30000-30009' });

const svc = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop', uid: 'u1', ...metadata }, spec: { ports: [{ port: 80 }], ...spec } }) as unknown as KubeObject;
const spec = (object: KubeObject): any => (object as any).spec;

/** A chooser handing out the lowest free values of a fixed list, as the view would. */
function chooser(free: { ip: number[]; port: number[] }) {
  return (kind: 'ip' | 'port', exclude: ReadonlySet<string>): number | null => free[kind].find((value) => !exclude.has(`${kind}:${value}`)) ?? null;
}
const ip = (last: number): number => 127 * 2 ** 24 + 96 * 2 ** 16 + last;

describe('Service defaults', () => {
  it('fills Kubernetes\' defaults for a NodePort Service with ClientIP affinity', () => {
    const s = spec(defaultService(svc({ type: 'NodePort', sessionAffinity: 'ClientIP', clusterIPs: ['127.96.0.3'] })));
    expect(s).toEqual({
      type: 'NodePort', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }], internalTrafficPolicy: 'Cluster', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack',
      clusterIP: '127.96.0.3', clusterIPs: ['127.96.0.3'], externalTrafficPolicy: 'Cluster',
    });
  });

  it('gives a LoadBalancer allocateLoadBalancerNodePorts and an ExternalName no address fields', () => {
    expect(spec(defaultService(svc({ type: 'LoadBalancer' })))).toMatchObject({ allocateLoadBalancerNodePorts: true, externalTrafficPolicy: 'Cluster' });
    const external = spec(defaultService(svc({ type: 'ExternalName', externalName: 'example.com', ports: [] })));
    expect(external.ipFamilies).toBeUndefined();
    expect(external.internalTrafficPolicy).toBeUndefined();
  });
});

describe('Service update preparation', () => {
  it('keeps an omitted clusterIP and node ports (by port name)', () => {
    const old = svc({ type: 'NodePort', clusterIP: '127.96.0.3', clusterIPs: ['127.96.0.3'], ports: [{ name: 'a', port: 80, nodePort: 30001 }] });
    const next = prepareServiceUpdate(old, svc({ type: 'NodePort', ports: [{ name: 'a', port: 81 }] }));
    expect(spec(next)).toMatchObject({ clusterIP: '127.96.0.3', clusterIPs: ['127.96.0.3'], ports: [{ name: 'a', port: 81, nodePort: 30001 }] });
  });

  it('drops node ports on NodePort → ClusterIP and the address on → ExternalName', () => {
    const old = defaultService(svc({ type: 'NodePort', clusterIP: '127.96.0.3', ports: [{ port: 80, nodePort: 30001 }] }));
    const toClusterIp = prepareServiceUpdate(old, { ...structuredClone(old), spec: { ...structuredClone(spec(old)), type: 'ClusterIP' } } as KubeObject);
    expect(spec(toClusterIp).ports[0].nodePort).toBeUndefined();
    expect(spec(toClusterIp).externalTrafficPolicy).toBeUndefined();
    const toExternal = prepareServiceUpdate(old, { ...structuredClone(old), spec: { ...structuredClone(spec(old)), type: 'ExternalName', externalName: 'x.example' } } as KubeObject);
    expect(spec(toExternal).clusterIP).toBeUndefined();
    expect(spec(toExternal).clusterIPs).toBeUndefined();
  });

  it('drops the health-check node port when externalTrafficPolicy goes Local → Cluster', () => {
    const old = svc({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 30005 });
    const next = prepareServiceUpdate(old, svc({ type: 'LoadBalancer', externalTrafficPolicy: 'Cluster', healthCheckNodePort: 30005 }));
    expect(spec(next).healthCheckNodePort).toBeUndefined();
  });
});

describe('Service validation', () => {
  const causes = (s: Record<string, unknown>, old: KubeObject | null = null): string[] =>
    validate(servicesInfo, defaultService(svc(s)), old).map((cause) => `${cause.field}: ${cause.message}`);

  it.each([
    [{ clusterIP: '300.1.1.1' }, 'spec.clusterIPs[0]: Invalid value: "300.1.1.1": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'],
    [{ clusterIP: 'fd00::1' }, 'spec.clusterIPs[0]: Invalid value: "fd00::1": this cluster serves IPv4 Services only'],
    [{ clusterIP: '127.96.0.3', clusterIPs: ['127.96.0.4'] }, 'spec.clusterIPs[0]: Invalid value: "127.96.0.4": must be same as clusterIP'],
    [{ type: 'NodePort', clusterIP: 'None' }, 'spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services'],
    [{ ports: [{ port: 80, nodePort: 30001 }] }, 'spec.ports[0].nodePort: Forbidden: may not be used when `type` is \'ClusterIP\''],
    [{ externalTrafficPolicy: 'Local' }, 'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services'],
    [{ type: 'NodePort', healthCheckNodePort: 30003 }, 'spec.healthCheckNodePort: Invalid value: 30003: may only be set when `type` is \'LoadBalancer\' and `externalTrafficPolicy` is \'Local\''],
    [{ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } }, 'spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400'],
    [{ ipFamilyPolicy: 'RequireDualStack' }, 'spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services'],
    [{ type: 'NodePort', ports: [{ name: 'a', port: 80, nodePort: 30001 }, { name: 'b', port: 81, nodePort: 30001 }] }, 'spec.ports[1].nodePort: Duplicate value: 30001'],
  ])('refuses %j', (s, message) => {
    expect(causes(s)).toContain(message);
  });

  it('accepts one node port shared by TCP and UDP, and an update omitting clusterIP', () => {
    expect(causes({ type: 'NodePort', ports: [{ name: 'd', port: 53, nodePort: 30001 }, { name: 'u', port: 53, protocol: 'UDP', nodePort: 30001 }] })).toEqual([]);
    const old = defaultService(svc({ clusterIP: '127.96.0.3' }));
    expect(causes({}, old)).toEqual([]);
    expect(causes({ clusterIP: '127.96.0.4' }, old)).toContain('spec.clusterIP: Invalid value: "127.96.0.4": field is immutable');
  });
});

describe('allocation plan', () => {
  it('chooses a ClusterIP and node ports, sharing one node port between TCP and UDP of one port', () => {
    const s = spec(defaultService(svc({ type: 'NodePort', ports: [{ name: 't', port: 53 }, { name: 'u', port: 53, protocol: 'UDP' }, { name: 'h', port: 80 }] })));
    const plan = planAllocation(s, null, ranges, chooser({ ip: [ip(2)], port: [30000, 30001] }));
    expect(plan.causes).toEqual([]);
    expect(s.clusterIP).toBe('127.96.0.2');
    expect(s.ports.map((p: any) => p.nodePort)).toEqual([30000, 30000, 30001]);
    expect(plan.claims.map((c) => [c.address.kind, c.address.value, c.explicit])).toEqual([['ip', ip(2), false], ['port', 30000, false], ['port', 30001, false]]);
  });

  it('checks explicit addresses against the ranges in Kubernetes\' words', () => {
    const plan = planAllocation(spec(defaultService(svc({ type: 'NodePort', clusterIP: '127.96.1.1', ports: [{ port: 80, nodePort: 80 }] }))), null, ranges, chooser({ ip: [], port: [] }));
    expect(plan.causes.map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.clusterIPs: Invalid value: ["127.96.1.1"]: failed to allocate IP 127.96.1.1: provided IP is not in the valid range. The range of valid IPs is 127.96.0.0/29',
      'spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-30009',
    ]);
  });

  it('says which range is full', () => {
    const plan = planAllocation(spec(defaultService(svc({}))), null, ranges, chooser({ ip: [], port: [] }));
    expect(plan.full).toBe(true);
    expect(plan.causes.map((c) => `${c.field}: ${c.message}`)).toEqual(['spec.clusterIPs: Internal error: range 127.96.0.0/29 is full']);
  });

  it('releases node ports when an update leaves NodePort, keeps what stays, claims only what is new', () => {
    const old = defaultService(svc({ type: 'NodePort', clusterIP: '127.96.0.3', ports: [{ port: 80, nodePort: 30001 }] }));
    const next = prepareServiceUpdate(old, svc({ type: 'ClusterIP', clusterIP: '127.96.0.3', ports: [{ port: 80, nodePort: 30001 }] }));
    const plan = planAllocation(spec(defaultService(next)), spec(old), ranges, chooser({ ip: [], port: [] }));
    expect(plan.claims).toEqual([]);
    expect(plan.releases).toEqual([{ kind: 'port', value: 30001 }]);
    const widened = planAllocation(spec(defaultService(svc({ type: 'NodePort', clusterIP: '127.96.0.3', ports: [{ name: 'a', port: 80, nodePort: 30001 }, { name: 'b', port: 81 }] }))), spec(old), ranges, chooser({ ip: [], port: [30002] }));
    expect(widened.claims.map((c) => c.address)).toEqual([{ kind: 'port', value: 30002 }]);
    expect(widened.releases).toEqual([]);
  });

  it('refuses more node ports than one store txn holds', () => {
    const ports = Array.from({ length: 25 }, (_, i) => ({ name: `p${i}`, port: 1000 + i }));
    const plan = planAllocation(spec(defaultService(svc({ type: 'NodePort', ports }))), null, ranges, chooser({ ip: [ip(2)], port: [] }));
    expect(plan.causes[0]?.message).toContain('Too many: 25: must have at most 24 node ports');
  });
});

describe('repair', () => {
  const record = (key: string, address: { kind: 'ip' | 'port'; value: number }, owner: { namespace: string; name: string; uid: string } | null) =>
    ({ key, modRevision: 7, address, owner });

  it('frees records whose owner is gone, was replaced, or no longer holds the address; leaves held and foreign ones', () => {
    const held = defaultService(svc({ type: 'NodePort', clusterIP: '127.96.0.3', ports: [{ port: 80, nodePort: 30001 }] }));
    const records = [
      record('held-ip', { kind: 'ip', value: ip(3) }, { namespace: 'shop', name: 'web', uid: 'u1' }),
      record('held-port', { kind: 'port', value: 30001 }, { namespace: 'shop', name: 'web', uid: 'u1' }),
      record('released-port', { kind: 'port', value: 30002 }, { namespace: 'shop', name: 'web', uid: 'u1' }),
      record('replaced', { kind: 'ip', value: ip(3) }, { namespace: 'shop', name: 'web', uid: 'u0' }),
      record('gone', { kind: 'ip', value: ip(4) }, { namespace: 'shop', name: 'api', uid: 'u2' }),
      record('foreign', { kind: 'ip', value: ip(5) }, null),
    ];
    expect(leakedRecords(records, [held]).map((r) => r.key)).toEqual(['released-port', 'replaced', 'gone']);
  });

  it('finds addresses held with no record, the first holder of a duplicate keeping it', () => {
    const first = defaultService(svc({ type: 'NodePort', clusterIP: '127.96.0.3', ports: [{ port: 80, nodePort: 30001 }] }));
    const second = defaultService(svc({ clusterIP: '127.96.0.3' }, { name: 'copy', uid: 'u9' }));
    const records = [record('held-port', { kind: 'port', value: 30001 }, { namespace: 'shop', name: 'web', uid: 'u1' })];
    const missing = unrecordedAddresses(records, [first, second]);
    expect(missing.map((m) => [m.service.metadata.name, m.address])).toEqual([['web', { kind: 'ip', value: ip(3) }]]);
  });
});
