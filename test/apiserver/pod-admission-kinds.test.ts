/**
 * Validation and kubectl tables of the kinds the control loops added (PriorityClass,
 * PodDisruptionBudget, EndpointSlice, StorageClass): each rule is asserted with Kubernetes'
 * field path and message, each table with kubectl 1.32's columns and cells.
 */
import { describe, expect, it } from 'vitest';
import { findResource, type ResourceInfo } from '../../actors/apiserver/registry/resources.js';
import { toTable } from '../../actors/apiserver/table.js';
import type { KubeObject } from '../../actors/apiserver/types.js';
import { validate } from '../../actors/apiserver/validation.js';
import { applyDefaults } from '../../actors/apiserver/defaults.js';

const info = (group: string, resource: string): ResourceInfo => findResource(group, 'v1', resource) as ResourceInfo;
const pcs = info('scheduling.k8s.io', 'priorityclasses');
const pdbs = info('policy', 'poddisruptionbudgets');
const slices = info('discovery.k8s.io', 'endpointslices');
const classes = info('storage.k8s.io', 'storageclasses');
const causes = (i: ResourceInfo, object: Record<string, unknown>, old: Record<string, unknown> | null = null): string[] =>
  validate(i, applyDefaults(i, object as unknown as KubeObject), old === null ? null : applyDefaults(i, old as unknown as KubeObject)).map((c) => `${c.field}: ${c.message}`);
const pc = (name: string, extra: Record<string, unknown>) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, ...extra });
const pdb = (spec: Record<string, unknown>) => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'ns' }, spec });
const slice = (extra: Record<string, unknown>) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 's', namespace: 'ns' }, ...extra });
const sc = (extra: Record<string, unknown>) => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast' }, ...extra });

describe('PriorityClass validation', () => {
  it('accepts user classes up to 1e9 and the two system classes as built', () => {
    expect(causes(pcs, pc('high', { value: 1_000_000_000 }))).toEqual([]);
    expect(causes(pcs, pc('system-node-critical', { value: 2_000_001_000 }))).toEqual([]);
  });

  it('refuses higher user values, other system- names, and changing value or policy', () => {
    expect(causes(pcs, pc('high', { value: 1_000_000_001 }))).toEqual(['value: Forbidden: maximum allowed value of a user defined priority is 1000000000']);
    expect(causes(pcs, pc('system-mine', { value: 5 }))).toEqual(["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class"]);
    expect(causes(pcs, pc('system-cluster-critical', { value: 5 }))).toEqual(["metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-cluster-critical PriorityClass must be 2000000000"]);
    expect(causes(pcs, pc('high', {}))).toEqual(['value: Required value']);
    expect(causes(pcs, pc('high', { value: 2 }), pc('high', { value: 1 }))).toEqual(['value: Forbidden: may not be changed in an update.']);
    expect(causes(pcs, pc('high', { value: 1, preemptionPolicy: 'Never' }), pc('high', { value: 1 }))).toEqual(['preemptionPolicy: Invalid value: "Never": field is immutable']);
  });
});

describe('PodDisruptionBudget validation', () => {
  const selector = { matchLabels: { app: 'web' } };
  it('accepts one of minAvailable / maxUnavailable as integer or percent', () => {
    expect(causes(pdbs, pdb({ minAvailable: 2, selector }))).toEqual([]);
    expect(causes(pdbs, pdb({ maxUnavailable: '25%', selector }))).toEqual([]);
  });

  it('refuses both, negatives, over 100% and malformed percents', () => {
    expect(causes(pdbs, pdb({ minAvailable: 1, maxUnavailable: 1, selector }))[0]).toMatch(/^spec: Invalid value: .*: minAvailable and maxUnavailable cannot be both set$/);
    expect(causes(pdbs, pdb({ minAvailable: -1, selector }))).toEqual(['spec.minAvailable: Invalid value: -1: must be greater than or equal to 0']);
    expect(causes(pdbs, pdb({ maxUnavailable: '150%', selector }))).toEqual(['spec.maxUnavailable: Invalid value: "150%": must not be greater than 100%']);
    expect(causes(pdbs, pdb({ minAvailable: 'half', selector }))[0]).toContain("spec.minAvailable: Invalid value: \"half\": a valid percent string must be a numeric string followed by an ending '%'");
    expect(causes(pdbs, pdb({ minAvailable: 1, selector: { matchExpressions: [{ key: 'app', operator: 'Near' }] } })).length).toBeGreaterThan(0);
  });
});

describe('EndpointSlice and StorageClass validation', () => {
  it('checks the slice\'s addressType, endpoint count and addresses, and ports', () => {
    expect(causes(slices, slice({ addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.1'] }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }))).toEqual([]);
    expect(causes(slices, slice({ endpoints: [] }))).toEqual(['addressType: Required value']);
    expect(causes(slices, slice({ addressType: 'IPv5' }))).toEqual(['addressType: Unsupported value: "IPv5": supported values: "IPv4", "IPv6", "FQDN"']);
    const many = Array.from({ length: 1001 }, () => ({ addresses: ['10.0.0.1'] }));
    expect(causes(slices, slice({ addressType: 'IPv4', endpoints: many }))).toEqual(['endpoints: Too many: 1001: must have at most 1000 items']);
    expect(causes(slices, slice({ addressType: 'IPv4', endpoints: [{ addresses: ['fe80::1'] }] }))).toEqual(['endpoints[0].addresses[0]: Invalid value: "fe80::1": must be a valid IPv4 address']);
    expect(causes(slices, slice({ addressType: 'IPv4', ports: [{ name: 'a', port: 70000 }, { name: 'a', protocol: 'ICMP' }] }))).toEqual([
      'ports[0].port: Invalid value: 70000: must be between 0 and 65535, inclusive', 'ports[1].name: Duplicate value: "a"',
      'ports[1].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
    ]);
    expect(causes(slices, slice({ addressType: 'IPv6' }), slice({ addressType: 'IPv4' }))).toEqual(['addressType: Invalid value: "IPv6": field is immutable']);
  });

  it('requires a provisioner and known policies; defaults Delete and Immediate', () => {
    expect(applyDefaults(classes, sc({ provisioner: 'kubus.io/local-path' }) as unknown as KubeObject)).toMatchObject({ reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' });
    expect(causes(classes, sc({ provisioner: 'kubus.io/local-path', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Retain' }))).toEqual([]);
    expect(causes(classes, sc({}))).toEqual(['provisioner: Required value']);
    expect(causes(classes, sc({ provisioner: 'p', reclaimPolicy: 'Recycle', volumeBindingMode: 'Later' }))).toEqual([
      'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
      'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
    ]);
    expect(causes(classes, sc({ provisioner: 'q' }), sc({ provisioner: 'p' }))).toEqual(['provisioner: Forbidden: updates to provisioner are forbidden.']);
  });
});

describe('garbage in', () => {
  it('yields causes, never an exception, for wrong types anywhere', () => {
    const garbage: unknown[] = [null, 'x', -1, 1.5, true, [], {}, [null], { a: [1] }, '200%'];
    const fields: Record<string, string[]> = {
      PriorityClass: ['metadata', 'value', 'globalDefault', 'preemptionPolicy', 'description'],
      PodDisruptionBudget: ['spec', 'status'],
      EndpointSlice: ['addressType', 'endpoints', 'ports'],
      StorageClass: ['provisioner', 'parameters', 'reclaimPolicy', 'volumeBindingMode', 'mountOptions', 'allowVolumeExpansion'],
    };
    const base: Record<string, [ResourceInfo, Record<string, unknown>]> = {
      PriorityClass: [pcs, pc('x', { value: 1 })], PodDisruptionBudget: [pdbs, pdb({ minAvailable: 1, selector: {} })],
      EndpointSlice: [slices, slice({ addressType: 'IPv4' })], StorageClass: [classes, sc({ provisioner: 'p' })],
    };
    let checked = 0;
    for (const [kind, [i, object]] of Object.entries(base)) {
      for (const field of fields[kind] ?? []) {
        for (const value of garbage) {
          const nested = field === 'spec' ? [{ minAvailable: value }, { maxUnavailable: value }, { selector: value }, value] : field === 'endpoints' ? [[{ addresses: value, conditions: value }], value] : [value];
          for (const v of nested) {
            expect(() => validate(i, { ...object, [field]: v } as unknown as KubeObject, { ...object } as unknown as KubeObject)).not.toThrow();
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(150);
  });
});

describe('tables', () => {
  const now = Date.parse('2026-12-02T12:00:00Z');
  const created = { creationTimestamp: '2026-12-02T11:00:00Z' };
  const table = (i: ResourceInfo, object: Record<string, unknown>) => {
    const t = toTable(i, [object as unknown as KubeObject], { resourceVersion: '1', includeObject: 'None', now });
    return { columns: (t.columnDefinitions ?? []).map((c) => c.name), cells: t.rows?.[0]?.cells };
  };
  it('prints kubectl\'s columns', () => {
    expect(table(pcs, { ...pc('system-node-critical', { value: 2000001000, globalDefault: false, preemptionPolicy: 'PreemptLowerPriority' }), metadata: { name: 'system-node-critical', ...created } }))
      .toEqual({ columns: ['Name', 'Value', 'Global-Default', 'Age', 'PreemptionPolicy'], cells: ['system-node-critical', 2000001000, false, '60m', 'PreemptLowerPriority'] });
    expect(table(pdbs, { ...pdb({ minAvailable: 2 }), metadata: { name: 'web', namespace: 'ns', ...created }, status: { disruptionsAllowed: 1 } }))
      .toEqual({ columns: ['Name', 'Min Available', 'Max Unavailable', 'Allowed Disruptions', 'Age'], cells: ['web', '2', 'N/A', 1, '60m'] });
    expect(table(classes, { ...sc({ provisioner: 'kubus.io/local-path' }), metadata: { name: 'local', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' }, ...created } }))
      .toEqual({ columns: ['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age'], cells: ['local (default)', 'kubus.io/local-path', 'Delete', 'Immediate', 'false', '60m'] });
    const endpoints = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((a) => ({ addresses: [a] }));
    expect(table(slices, { ...slice({ addressType: 'IPv4', endpoints, ports: [{ port: 80 }, { name: 'x' }] }), metadata: { name: 's', ...created } }))
      .toEqual({ columns: ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age'], cells: ['s', 'IPv4', '80,x', '10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...', '60m'] });
    expect(table(slices, { ...slice({ addressType: 'IPv4' }), metadata: { name: 's', ...created } }).cells).toEqual(['s', 'IPv4', '<unset>', '<unset>', '60m']);
  });
});
