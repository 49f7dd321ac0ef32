/**
 * The pod admission plugins as pure functions (ServiceAccount, Priority, DefaultTolerationSeconds,
 * QoS), then the chain that runs them on a fake storage: each asserts the exact object or the exact
 * Kubernetes message, so a plugin that stops mutating or words its refusal differently fails here.
 */
import { describe, expect, it } from 'vitest';
import type { Pod, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import { AdmissionChain } from '../../actors/apiserver/admission/index.js';
import { admitDefaultTolerationSeconds } from '../../actors/apiserver/admission/default-toleration-seconds.js';
import { admitPodPriority, admitPriorityClass } from '../../actors/apiserver/admission/priority.js';
import { withQosClass } from '../../actors/apiserver/admission/pod-qos.js';
import { admitServiceAccount, apiAccessVolume, serviceAccountMountPath, volumeSuffix } from '../../actors/apiserver/admission/service-account.js';
import type { AdmissionRequest } from '../../actors/apiserver/http/admission.js';
import type { ObjectStorage } from '../../actors/apiserver/http/objects-port.js';
import { findResource, type ResourceInfo } from '../../actors/apiserver/registry/resources.js';
import { ApiError, apiErrors } from '../../actors/apiserver/status.js';
import type { KubeObject } from '../../actors/apiserver/types.js';
import type { Logger } from '../../bus/index.js';
import { applyDefaults } from '../../actors/apiserver/defaults.js';

const pod = (spec: Partial<Pod['spec']> = {}, name = 'p'): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns' },
  spec: { containers: [{ name: 'c', image: 'nginx:1.27' }], ...spec },
});
const refusal = (fn: () => unknown): { status: number; message: string } => {
  try { fn(); } catch (error) { if (error instanceof ApiError) return { status: error.httpStatus, message: error.message }; throw error; }
  throw new Error('not refused');
};
const pc = (name: string, value: number, extra: Partial<PriorityClass> = {}): PriorityClass =>
  ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, preemptionPolicy: 'PreemptLowerPriority', ...extra });

describe('ServiceAccount admission', () => {
  it('runs the pod as default and mounts the projected token volume in every container', () => {
    const out = admitServiceAccount(pod({ initContainers: [{ name: 'i', image: 'busybox' }] }), null, { namespace: 'ns', suffix: 'abcde' });
    expect(out.spec?.serviceAccountName).toBe('default');
    expect(out.spec?.volumes).toEqual([apiAccessVolume('kube-api-access-abcde')]);
    const mount = { name: 'kube-api-access-abcde', readOnly: true, mountPath: serviceAccountMountPath };
    expect(out.spec?.containers[0]?.volumeMounts).toEqual([mount]);
    expect(out.spec?.initContainers?.[0]?.volumeMounts).toEqual([mount]);
    const projected = out.spec?.volumes?.[0]?.projected;
    expect(projected?.sources?.[0]?.serviceAccountToken?.expirationSeconds).toBe(3607);
    expect(projected?.sources?.[1]?.configMap?.name).toBe('kube-root-ca.crt');
    expect(projected?.sources?.[2]?.downwardAPI?.items?.[0]?.fieldRef?.fieldPath).toBe('metadata.namespace');
  });

  it('refuses a named account that does not exist with Kubernetes\' message', () => {
    expect(refusal(() => admitServiceAccount(pod({ serviceAccountName: 'robot' }), null, { namespace: 'ns', suffix: 'abcde' }))).toEqual({
      status: 403, message: 'pods "p" is forbidden: error looking up service account ns/robot: serviceaccount "robot" not found',
    });
  });

  it('mounts nothing when the pod or its account opts out, and keeps a mount the pod already has', () => {
    expect(admitServiceAccount(pod({ automountServiceAccountToken: false }), null, { namespace: 'ns', suffix: 'abcde' }).spec?.volumes).toBeUndefined();
    const account: ServiceAccount = { metadata: { name: 'robot' }, automountServiceAccountToken: false };
    expect(admitServiceAccount(pod({ serviceAccountName: 'robot' }), account, { namespace: 'ns', suffix: 'abcde' }).spec?.volumes).toBeUndefined();
    // The pod's own setting wins over the account's.
    expect(admitServiceAccount(pod({ serviceAccountName: 'robot', automountServiceAccountToken: true }), account, { namespace: 'ns', suffix: 'abcde' }).spec?.volumes).toHaveLength(1);
    const own = pod({ containers: [{ name: 'c', image: 'x', volumeMounts: [{ name: 'mine', mountPath: serviceAccountMountPath }] }], volumes: [{ name: 'mine', emptyDir: {} }] });
    const kept = admitServiceAccount(own, null, { namespace: 'ns', suffix: 'abcde' });
    expect(kept.spec?.volumes).toEqual([{ name: 'mine', emptyDir: {} }]);
    expect(kept.spec?.containers[0]?.volumeMounts).toEqual([{ name: 'mine', mountPath: serviceAccountMountPath }]);
  });

  it('draws the volume suffix from the alphabet without vowels', () => {
    const values = [0, 0.5, 0.999, 0.25, 0.75];
    let i = 0;
    expect(volumeSuffix(() => values[i++] ?? 0)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });
});

describe('DefaultTolerationSeconds admission', () => {
  it('adds 300 s NoExecute tolerations for not-ready and unreachable', () => {
    expect(admitDefaultTolerationSeconds(pod()).spec?.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
  });

  it('keeps what the pod tolerates already: its own seconds, or every taint', () => {
    const own = { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 };
    expect(admitDefaultTolerationSeconds(pod({ tolerations: [own] })).spec?.tolerations).toEqual([
      own, { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
    expect(admitDefaultTolerationSeconds(pod({ tolerations: [{ operator: 'Exists' }] })).spec?.tolerations).toEqual([{ operator: 'Exists' }]);
  });
});

describe('Priority admission', () => {
  const classes = [pc('high', 1000), pc('never', 50, { preemptionPolicy: 'Never' })];

  it('resolves the class to priority and preemptionPolicy', () => {
    const out = admitPodPriority(pod({ priorityClassName: 'never' }), { priority: undefined, preemptionPolicy: undefined }, classes);
    expect([out.spec?.priority, out.spec?.preemptionPolicy, out.spec?.priorityClassName]).toEqual([50, 'Never', 'never']);
  });

  it('gives a pod without a class the global default, else priority 0', () => {
    expect(admitPodPriority(pod(), { priority: undefined, preemptionPolicy: undefined }, classes).spec).toMatchObject({ priority: 0, preemptionPolicy: 'PreemptLowerPriority' });
    expect(admitPodPriority(pod(), { priority: undefined, preemptionPolicy: undefined }, classes).spec?.priorityClassName).toBeUndefined();
    // Two defaults after a race: the lower value wins, as in Kubernetes.
    const defaults = [...classes, pc('d1', 300, { globalDefault: true }), pc('d2', 200, { globalDefault: true })];
    expect(admitPodPriority(pod(), { priority: undefined, preemptionPolicy: undefined }, defaults).spec).toMatchObject({ priority: 200, priorityClassName: 'd2' });
  });

  it('refuses an unknown class and a written priority that disagrees, with Kubernetes\' messages', () => {
    expect(refusal(() => admitPodPriority(pod({ priorityClassName: 'foo' }), { priority: undefined, preemptionPolicy: undefined }, classes))).toEqual({
      status: 403, message: 'pods "p" is forbidden: no PriorityClass with name foo was found',
    });
    expect(refusal(() => admitPodPriority(pod({ priorityClassName: 'high', priority: 5 }), { priority: 5, preemptionPolicy: undefined }, classes))).toEqual({
      status: 403, message: 'pods "p" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name',
    });
    // Without a class the computed priority is 0 (or the default's): a pod may not name its own number.
    expect(refusal(() => admitPodPriority(pod({ priority: 7 }), { priority: 7, preemptionPolicy: undefined }, classes))).toEqual({
      status: 403, message: 'pods "p" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name',
    });
    expect(refusal(() => admitPodPriority(pod({ priorityClassName: 'never', preemptionPolicy: 'PreemptLowerPriority' }), { priority: undefined, preemptionPolicy: 'PreemptLowerPriority' }, classes)).message)
      .toBe('pods "p" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name');
    // Agreeing with the class is allowed (a pod re-created from `kubectl get -o yaml`).
    expect(admitPodPriority(pod({ priorityClassName: 'high', priority: 1000 }), { priority: 1000, preemptionPolicy: undefined }, classes).spec?.priority).toBe(1000);
  });

  it('allows one global default class only', () => {
    const withDefault = [pc('d1', 300, { globalDefault: true })];
    expect(refusal(() => admitPriorityClass(pc('d2', 1, { globalDefault: true }), 'CREATE', withDefault))).toEqual({
      status: 403, message: 'priorityclasses.scheduling.k8s.io "d2" is forbidden: PriorityClass d1 is already marked as default. Only one default can exist',
    });
    expect(() => admitPriorityClass(pc('d1', 300, { globalDefault: true }), 'UPDATE', withDefault)).not.toThrow();
    expect(() => admitPriorityClass(pc('d2', 1, { globalDefault: true }), 'CREATE', [])).not.toThrow();
  });
});

describe('QoS class', () => {
  it('is computed from cpu and memory requests and limits', () => {
    expect(withQosClass(pod()).status?.qosClass).toBe('BestEffort');
    expect(withQosClass(pod({ containers: [{ name: 'c', resources: { requests: { cpu: '100m' } } }] })).status?.qosClass).toBe('Burstable');
    expect(withQosClass(pod({ containers: [{ name: 'c', resources: { limits: { cpu: '1', memory: '1Gi' } } }] })).status?.qosClass).toBe('Guaranteed');
  });
});

describe('the chain runs the pod plugins on create', () => {
  const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
  const pods = findResource('', 'v1', 'pods') as ResourceInfo;
  const store = new Map<string, KubeObject[]>([
    ['namespaces/', [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' }, status: { phase: 'Active' } }]],
    ['priorityclasses/', [pc('high', 1000) as unknown as KubeObject]],
  ]);
  const objects: ObjectStorage = {
    get: async (info, namespace, name) => {
      const found = (store.get(`${info.resource}/${namespace ?? ''}`) ?? []).find((o) => o.metadata.name === name);
      if (found === undefined) throw apiErrors.notFound(info.resource, info.group, name);
      return found;
    },
    list: async (info, namespace) => ({ items: store.get(`${info.resource}/${namespace ?? ''}`) ?? [], resourceVersion: '1' }),
    watch: async () => ({ stop: () => undefined }),
    create: async () => { throw new Error('unused'); },
    update: async () => { throw new Error('unused'); },
    guaranteedUpdate: async () => { throw new Error('unused'); },
    delete: async () => { throw new Error('unused'); },
    deleteCollection: async () => { throw new Error('unused'); },
  };
  const create = (object: Pod): AdmissionRequest => ({
    info: pods, operation: 'CREATE', user: { name: 'admin', uid: '1', groups: ['system:masters'] }, namespace: 'ns', name: object.metadata?.name ?? null,
    subresource: null, object: object as unknown as KubeObject, old: null, dryRun: false,
  });

  it('stores priority, tolerations, the account volume and the QoS class', async () => {
    const chain = new AdmissionChain({ objects, logger: silent }).start();
    const out = await chain.admit(create(pod({ priorityClassName: 'high', containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '1' } } }] }))) as unknown as Pod;
    chain.stop();
    expect(out.spec?.priority).toBe(1000);
    expect(out.spec?.serviceAccountName).toBe('default');
    expect(out.spec?.tolerations?.map((t) => t.key)).toEqual(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
    expect(out.spec?.volumes?.[0]?.name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(out.status?.qosClass).toBe('Burstable');
  });

  it('keeps the priority set at create on an update that leaves it out', async () => {
    const chain = new AdmissionChain({ objects, logger: silent }).start();
    // As stored: defaulted, with what admission added at create.
    const stored = applyDefaults(pods, { ...pod({ priority: 1000, preemptionPolicy: 'PreemptLowerPriority', priorityClassName: 'high' }), metadata: { name: 'p', namespace: 'ns', resourceVersion: '5' } } as unknown as KubeObject);
    const replaced = pod({ priorityClassName: 'high' });
    const out = await chain.admit({ ...create(replaced), operation: 'UPDATE', old: stored }) as unknown as Pod;
    chain.stop();
    expect([out.spec?.priority, out.spec?.preemptionPolicy]).toEqual([1000, 'PreemptLowerPriority']);
  });

  it('refuses an unknown class before anything else runs', async () => {
    const chain = new AdmissionChain({ objects, logger: silent }).start();
    const error = await chain.admit(create(pod({ priorityClassName: 'foo' }))).catch((e: unknown) => e);
    chain.stop();
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toBe('pods "p" is forbidden: no PriorityClass with name foo was found');
  });
});
