/**
 * Validation: every valid fixture (also after defaulting) passes; targeted mistakes produce the
 * cause Kubernetes reports on the right field; updates reject changes to immutable fields; and a
 * seeded fuzz of mangled objects always yields well-formed causes and never throws.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../../bus/prng.js';
import { applyDefaults } from '../../actors/apiserver/defaults.js';
import { typeErrors, validate } from '../../actors/apiserver/validation.js';
import type { FieldCause, KubeObject } from '../../actors/apiserver/types.js';
import { fixture, validObjects } from './object-fixtures.js';

type Mutation = (o: any) => void;

function causesAfter(kind: string, mutate: Mutation, old?: Mutation): FieldCause[] {
  const [info, object] = fixture(kind);
  mutate(object);
  let previous: KubeObject | null = null;
  if (old !== undefined) {
    previous = fixture(kind)[1];
    old(previous);
  }
  return validate(info, object, previous);
}

const fields = (causes: FieldCause[]): string[] => causes.map((c) => c.field);

describe('valid objects', () => {
  it.each(validObjects().map(([info, object]) => [info.kind, info, object] as const))('%s passes, also after defaulting and as an unchanged update', (_kind, info, object) => {
    expect(validate(info, object, null)).toEqual([]);
    const defaulted = applyDefaults(info, object);
    expect(validate(info, defaulted, null)).toEqual([]);
    expect(validate(info, defaulted, defaulted)).toEqual([]);
  });

  it('accepts generateName without a name', () => {
    expect(causesAfter('Pod', (o) => { delete o.metadata.name; o.metadata.generateName = 'web-'; })).toEqual([]);
  });
});

/** [kind, mutation, the field expected among the causes, the expected reason]. */
const invalidCases: [string, string, Mutation, string, FieldCause['reason']][] = [
  ['Pod', 'no name', (o) => { delete o.metadata.name; }, 'metadata.name', 'FieldValueRequired'],
  ['Pod', 'upper-case name', (o) => { o.metadata.name = 'Web_1'; }, 'metadata.name', 'FieldValueInvalid'],
  ['Pod', 'name too long', (o) => { o.metadata.name = 'a'.repeat(254); }, 'metadata.name', 'FieldValueInvalid'],
  ['Pod', 'bad generateName', (o) => { delete o.metadata.name; o.metadata.generateName = 'Web_'; }, 'metadata.generateName', 'FieldValueInvalid'],
  ['Pod', 'bad namespace', (o) => { o.metadata.namespace = 'a.b'; }, 'metadata.namespace', 'FieldValueInvalid'],
  ['Pod', 'bad label key', (o) => { o.metadata.labels = { 'bad key': 'v' }; }, 'metadata.labels', 'FieldValueInvalid'],
  ['Pod', 'bad label value', (o) => { o.metadata.labels = { app: 'has space' }; }, 'metadata.labels', 'FieldValueInvalid'],
  ['Pod', 'label value too long', (o) => { o.metadata.labels = { app: 'x'.repeat(64) }; }, 'metadata.labels', 'FieldValueInvalid'],
  ['Pod', 'label value not a string', (o) => { o.metadata.labels = { app: 3 }; }, 'metadata.labels[app]', 'FieldValueTypeInvalid'],
  ['Pod', 'bad annotation key', (o) => { o.metadata.annotations = { '/x': 'v' }; }, 'metadata.annotations', 'FieldValueInvalid'],
  ['Pod', 'annotations too large', (o) => { o.metadata.annotations = { a: 'x'.repeat(300 * 1024) }; }, 'metadata.annotations', 'FieldValueTooLong'],
  ['Pod', 'wrong kind', (o) => { o.kind = 'Service'; }, 'kind', 'FieldValueInvalid'],
  ['Pod', 'wrong apiVersion', (o) => { o.apiVersion = 'apps/v1'; }, 'apiVersion', 'FieldValueInvalid'],
  ['Pod', 'missing apiVersion', (o) => { delete o.apiVersion; }, 'apiVersion', 'FieldValueRequired'],
  ['Pod', 'metadata not an object', (o) => { o.metadata = 'x'; }, 'metadata', 'FieldValueTypeInvalid'],
  ['Pod', 'no spec', (o) => { delete o.spec; }, 'spec', 'FieldValueRequired'],
  ['Pod', 'no containers', (o) => { o.spec.containers = []; }, 'spec.containers', 'FieldValueRequired'],
  ['Pod', 'container without image', (o) => { delete o.spec.containers[0].image; }, 'spec.containers[0].image', 'FieldValueRequired'],
  ['Pod', 'container without name', (o) => { delete o.spec.containers[0].name; }, 'spec.containers[0].name', 'FieldValueRequired'],
  ['Pod', 'duplicate container names', (o) => { o.spec.containers.push({ name: 'web', image: 'x' }); }, 'spec.containers[1].name', 'FieldValueDuplicate'],
  ['Pod', 'init container name clashes', (o) => { o.spec.initContainers = [{ name: 'web', image: 'x' }]; }, 'spec.initContainers[0].name', 'FieldValueDuplicate'],
  ['Pod', 'port out of range', (o) => { o.spec.containers[0].ports[0].containerPort = 70000; }, 'spec.containers[0].ports[0].containerPort', 'FieldValueInvalid'],
  ['Pod', 'port as a string', (o) => { o.spec.containers[0].ports[0].containerPort = '80'; }, 'spec.containers[0].ports[0].containerPort', 'FieldValueTypeInvalid'],
  ['Pod', 'bad protocol', (o) => { o.spec.containers[0].ports[0].protocol = 'HTTP'; }, 'spec.containers[0].ports[0].protocol', 'FieldValueNotSupported'],
  ['Pod', 'bad port name', (o) => { o.spec.containers[0].ports[0].name = 'a-very-long-port-name'; }, 'spec.containers[0].ports[0].name', 'FieldValueInvalid'],
  ['Pod', 'mount of an unknown volume', (o) => { o.spec.containers[0].volumeMounts[0].name = 'nope'; }, 'spec.containers[0].volumeMounts[0].name', 'FieldValueInvalid'],
  ['Pod', 'bad restartPolicy', (o) => { o.spec.restartPolicy = 'Sometimes'; }, 'spec.restartPolicy', 'FieldValueNotSupported'],
  ['Pod', 'negative grace period', (o) => { o.spec.terminationGracePeriodSeconds = -5; }, 'spec.terminationGracePeriodSeconds', 'FieldValueInvalid'],
  ['Pod', 'containers not a list', (o) => { o.spec.containers = { name: 'x' }; }, 'spec.containers', 'FieldValueTypeInvalid'],
  ['Pod', 'env without name', (o) => { o.spec.containers[0].env = [{ value: 'x' }]; }, 'spec.containers[0].env[0].name', 'FieldValueRequired'],
  ['Deployment', 'replicas as a string', (o) => { o.spec.replicas = '3'; }, 'spec.replicas', 'FieldValueTypeInvalid'],
  ['Deployment', 'negative replicas', (o) => { o.spec.replicas = -1; }, 'spec.replicas', 'FieldValueInvalid'],
  ['Deployment', 'no selector', (o) => { delete o.spec.selector; }, 'spec.selector', 'FieldValueRequired'],
  ['Deployment', 'empty selector', (o) => { o.spec.selector = {}; }, 'spec.selector', 'FieldValueInvalid'],
  ['Deployment', 'selector does not match template', (o) => { o.spec.selector.matchLabels = { app: 'db' }; }, 'spec.template.metadata.labels', 'FieldValueInvalid'],
  ['Deployment', 'template restartPolicy Never', (o) => { o.spec.template.spec.restartPolicy = 'Never'; }, 'spec.template.spec.restartPolicy', 'FieldValueNotSupported'],
  ['Deployment', 'template container without image', (o) => { delete o.spec.template.spec.containers[0].image; }, 'spec.template.spec.containers[0].image', 'FieldValueRequired'],
  ['Deployment', 'bad strategy', (o) => { o.spec.strategy = { type: 'BlueGreen' }; }, 'spec.strategy.type', 'FieldValueNotSupported'],
  ['Deployment', 'maxSurge and maxUnavailable both 0', (o) => { o.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } }; }, 'spec.strategy.rollingUpdate.maxUnavailable', 'FieldValueInvalid'],
  ['Deployment', 'bad percent', (o) => { o.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 'lots' } }; }, 'spec.strategy.rollingUpdate.maxSurge', 'FieldValueInvalid'],
  ['ReplicaSet', 'In without values', (o) => { o.spec.selector.matchExpressions[0].values = []; }, 'spec.selector.matchExpressions[0].values', 'FieldValueRequired'],
  ['ReplicaSet', 'no template', (o) => { delete o.spec.template; }, 'spec.template', 'FieldValueRequired'],
  ['Service', 'no ports', (o) => { o.spec.ports = []; }, 'spec.ports', 'FieldValueRequired'],
  ['Service', 'port 0', (o) => { o.spec.ports[0].port = 0; }, 'spec.ports[0].port', 'FieldValueInvalid'],
  ['Service', 'unnamed port among several', (o) => { delete o.spec.ports[1].name; }, 'spec.ports[1].name', 'FieldValueRequired'],
  ['Service', 'duplicate port names', (o) => { o.spec.ports[1].name = 'http'; }, 'spec.ports[1].name', 'FieldValueDuplicate'],
  ['Service', 'bad type', (o) => { o.spec.type = 'Magic'; }, 'spec.type', 'FieldValueNotSupported'],
  ['Service', 'name starting with a digit', (o) => { o.metadata.name = '1web'; }, 'metadata.name', 'FieldValueInvalid'],
  ['Service', 'ExternalName without externalName', (o) => { o.spec.type = 'ExternalName'; }, 'spec.externalName', 'FieldValueRequired'],
  ['Service', 'nodePort on ClusterIP', (o) => { o.spec.ports[0].nodePort = 30080; }, 'spec.ports[0].nodePort', 'FieldValueForbidden'],
  ['ConfigMap', 'bad data key', (o) => { o.data = { 'a/b': 'x' }; }, 'data[a/b]', 'FieldValueInvalid'],
  ['ConfigMap', 'data value not a string', (o) => { o.data = { a: 1 }; }, 'data[a]', 'FieldValueTypeInvalid'],
  ['ConfigMap', 'key in data and binaryData', (o) => { o.binaryData = { KEY_1: 'aGk=' }; }, 'binaryData[KEY_1]', 'FieldValueDuplicate'],
  ['ConfigMap', 'too large', (o) => { o.data = { big: 'x'.repeat(1024 * 1024 + 1) }; }, 'data', 'FieldValueTooLong'],
  ['Secret', 'bad base64', (o) => { o.data = { password: 'not base64!' }; }, 'data[password]', 'FieldValueInvalid'],
  ['Secret', 'tls without key', (o) => { o.type = 'kubernetes.io/tls'; o.data = { 'tls.crt': 'YQ==' }; }, 'data[tls.key]', 'FieldValueRequired'],
  ['Namespace', 'dots in name', (o) => { o.metadata.name = 'a.b'; }, 'metadata.name', 'FieldValueInvalid'],
  ['Node', 'namespace on a cluster-scoped kind', (o) => { o.metadata.namespace = 'default'; }, 'metadata.namespace', 'FieldValueForbidden'],
  ['Node', 'taint without effect', (o) => { delete o.spec.taints[0].effect; }, 'spec.taints[0].effect', 'FieldValueRequired'],
  ['Lease', 'zero duration', (o) => { o.spec.leaseDurationSeconds = 0; }, 'spec.leaseDurationSeconds', 'FieldValueInvalid'],
  ['Event', 'no involvedObject', (o) => { delete o.involvedObject; }, 'involvedObject', 'FieldValueRequired'],
  ['PersistentVolumeClaim', 'no access modes', (o) => { o.spec.accessModes = []; }, 'spec.accessModes', 'FieldValueRequired'],
  ['PersistentVolumeClaim', 'no storage request', (o) => { o.spec.resources = {}; }, 'spec.resources.requests[storage]', 'FieldValueRequired'],
  ['PersistentVolume', 'bad access mode', (o) => { o.spec.accessModes = ['RWO']; }, 'spec.accessModes[0]', 'FieldValueNotSupported'],
  ['HorizontalPodAutoscaler', 'max below min', (o) => { o.spec.minReplicas = 6; }, 'spec.maxReplicas', 'FieldValueInvalid'],
  ['HorizontalPodAutoscaler', 'no maxReplicas', (o) => { delete o.spec.maxReplicas; }, 'spec.maxReplicas', 'FieldValueRequired'],
  ['Role', 'rule without verbs', (o) => { o.rules[0].verbs = []; }, 'rules[0].verbs', 'FieldValueRequired'],
  ['ClusterRoleBinding', 'roleRef to a Role', (o) => { o.roleRef.kind = 'Role'; }, 'roleRef.kind', 'FieldValueNotSupported'],
  ['ClusterRoleBinding', 'service account without namespace', (o) => { delete o.subjects[1].namespace; }, 'subjects[1].namespace', 'FieldValueRequired'],
  ['Endpoints', 'address without ip', (o) => { o.subsets[0].addresses = [{}]; }, 'subsets[0].addresses[0].ip', 'FieldValueRequired'],
];

describe('invalid objects', () => {
  it.each(invalidCases)('%s: %s', (kind, _what, mutate, field, reason) => {
    const causes = causesAfter(kind, mutate);
    expect(causes.map((c) => [c.field, c.reason])).toContainEqual([field, reason]);
  });

  it('words causes as Kubernetes does', () => {
    const causes = causesAfter('Pod', (o) => { o.metadata.name = 'Bad'; delete o.spec.containers[0].image; });
    expect(causes).toContainEqual({ reason: 'FieldValueRequired', field: 'spec.containers[0].image', message: 'Required value' });
    const name = causes.find((c) => c.field === 'metadata.name');
    expect(name?.message).toMatch(/^Invalid value: "Bad": a lowercase RFC 1123 subdomain must consist of/);
  });

  it('typeErrors returns only the wrong-type causes', () => {
    const [info, object] = fixture('Deployment');
    (object as any).spec.replicas = '3';
    (object as any).metadata.name = 'BAD';
    const causes = typeErrors(info, object);
    expect(causes).toHaveLength(1);
    expect(causes[0]).toMatchObject({ field: 'spec.replicas', reason: 'FieldValueTypeInvalid' });
    expect(causes[0]!.message).toContain('must be of type integer');
  });
});

describe('updates', () => {
  const immutableCases: [string, string, Mutation, string][] = [
    ['Pod', 'name', (o) => { o.metadata.name = 'other'; }, 'metadata.name'],
    ['Pod', 'uid', (o) => { o.metadata.uid = 'u2'; }, 'metadata.uid'],
    ['Pod', 'container command', (o) => { o.spec.containers[0].command = ['x']; }, 'spec'],
    ['Pod', 'removing a toleration', (o) => { o.spec.tolerations = []; }, 'spec.tolerations'],
    ['Deployment', 'selector', (o) => { o.spec.selector.matchLabels.tier = 'front'; }, 'spec.selector'],
    ['Service', 'clusterIP', (o) => { o.spec.clusterIP = '10.0.0.9'; }, 'spec.clusterIP'],
    ['ConfigMap', 'data of an immutable configmap', (o) => { o.data.KEY_1 = 'changed'; }, 'data'],
    ['ConfigMap', 'unsetting immutable', (o) => { o.immutable = false; }, 'immutable'],
    ['Secret', 'type', (o) => { o.type = 'kubernetes.io/basic-auth'; }, 'type'],
    ['ClusterRoleBinding', 'roleRef', (o) => { o.roleRef.name = 'view'; }, 'roleRef'],
    ['PersistentVolumeClaim', 'access modes', (o) => { o.spec.accessModes = ['ReadWriteMany']; }, 'spec'],
  ];
  const oldState: Mutation = (o) => {
    o.metadata.uid = 'u1';
    if (o.kind === 'Service') o.spec.clusterIP = '10.0.0.1';
    if (o.kind === 'ConfigMap') o.immutable = true;
    if (o.kind === 'Pod') o.spec.tolerations = [{ key: 'k', operator: 'Exists' }];
  };

  it.each(immutableCases)('%s: changing %s is refused', (kind, _what, mutate, field) => {
    const causes = causesAfter(kind, (o) => { oldState(o); mutate(o); }, oldState);
    expect(fields(causes)).toContain(field);
  });

  it('allows the mutable parts: pod images, deployment replicas, labels, a service update omitting clusterIP', () => {
    expect(causesAfter('Pod', (o) => { oldState(o); o.spec.containers[0].image = 'nginx:2'; o.metadata.labels.v = '2'; }, oldState)).toEqual([]);
    expect(causesAfter('Deployment', (o) => { oldState(o); o.spec.replicas = 10; }, oldState)).toEqual([]);
    expect(causesAfter('Service', (o) => { oldState(o); delete o.spec.clusterIP; }, oldState)).toEqual([]);
    expect(causesAfter('Pod', (o) => { oldState(o); o.spec.tolerations.push({ key: 'n', operator: 'Exists' }); }, oldState)).toEqual([]);
  });
});

/** Garbage values that a client could send in place of any field. */
const garbage: unknown[] = [null, 0, -1, 3.5, 70000, '', 'X', 'UPPER_case!', 'x'.repeat(300), true, [], [1, 'a', null], {}, { a: { b: [] } }];

/** Every path (as a key list) to a value inside `value`. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) value.forEach((item, i) => out.push(...paths(item, [...prefix, i])));
  else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

function setAt(root: any, path: (string | number)[], replacement: unknown, remove: boolean): any {
  if (path.length === 0) return replacement;
  let parent = root;
  for (const key of path.slice(0, -1)) parent = parent[key];
  const last = path[path.length - 1]!;
  if (remove && !Array.isArray(parent)) delete parent[last];
  else parent[last] = replacement;
  return root;
}

describe('fuzz', () => {
  it('mangled objects of every kind yield well-formed causes and never throw (seeded)', () => {
    const prng = new Prng(20261124);
    const reasons = new Set(['FieldValueInvalid', 'FieldValueRequired', 'FieldValueNotSupported', 'FieldValueDuplicate', 'FieldValueForbidden', 'FieldValueTooLong', 'FieldValueTypeInvalid']);
    let withCauses = 0;
    const rounds = 3000;
    for (let round = 0; round < rounds; round++) {
      const [info, object] = prng.pick(validObjects());
      let mangled: any = object;
      const edits = 1 + prng.int(3);
      for (let e = 0; e < edits; e++) {
        const all = paths(mangled);
        mangled = setAt(mangled, prng.pick(all), structuredClone(prng.pick(garbage)), prng.chance(0.3));
      }
      const old = prng.chance(0.3) ? fixture(info.kind)[1] : null;
      let causes: FieldCause[] = [];
      expect(() => { causes = validate(info, mangled, old); }, JSON.stringify(mangled).slice(0, 500)).not.toThrow();
      for (const cause of causes) {
        expect(reasons.has(cause.reason)).toBe(true);
        expect(typeof cause.field).toBe('string');
        expect(cause.message.length).toBeGreaterThan(0);
      }
      if (causes.length > 0) withCauses++;
    }
    // Most random garbage is invalid somewhere; a validator that silently accepted everything would fail this.
    expect(withCauses).toBeGreaterThan(rounds / 2);
  });

  it('combinations of known-invalid mutations always produce causes', () => {
    const prng = new Prng(7);
    for (let round = 0; round < 500; round++) {
      const picked = [prng.pick(invalidCases)];
      const sameKind = invalidCases.filter((c) => c[0] === picked[0]![0]);
      picked.push(prng.pick(sameKind));
      const [info, object] = fixture(picked[0]![0]);
      for (const [, , mutate] of picked) {
        try { mutate(object); } catch { /* a prior mutation removed what this one edits */ }
      }
      const causes = validate(info, object, null);
      expect(causes.length, `${picked.map((p) => p[1]).join(' + ')}`).toBeGreaterThan(0);
    }
  });

  it('non-object roots produce a cause', () => {
    const [info] = fixture('Pod');
    for (const value of garbage) if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      expect(validate(info, value as KubeObject, null).length).toBeGreaterThan(0);
    }
  });
});
