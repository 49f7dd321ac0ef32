/**
 * Defaulting: the values the real API server fills in, never overwriting what the client set, and
 * never modifying the input or throwing on malformed objects (validation reports those).
 */
import { describe, expect, it } from 'vitest';
import { applyDefaults, defaultPullPolicy } from '../../actors/apiserver/defaults.js';
import type { KubeObject } from '../../actors/apiserver/types.js';
import { fixture, validObjects } from './object-fixtures.js';

const at = (o: KubeObject, ...path: (string | number)[]): unknown => path.reduce<any>((v, k) => v?.[k], o);

describe('applyDefaults', () => {
  it('fills pod spec and container defaults', () => {
    const [info, pod] = fixture('Pod');
    const out = applyDefaults(info, pod);
    expect(at(out, 'spec')).toMatchObject({
      restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30, schedulerName: 'default-scheduler',
      enableServiceLinks: true, securityContext: {},
    });
    expect(at(out, 'spec', 'containers', 0)).toMatchObject({
      imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {},
    });
    expect(at(out, 'spec', 'containers', 0, 'ports', 0, 'protocol')).toBe('TCP');
    expect(at(out, 'status', 'phase')).toBe('Pending');
    // The input is untouched.
    expect(at(pod, 'spec', 'restartPolicy')).toBeUndefined();
  });

  it('keeps what the client set', () => {
    const [info, pod] = fixture('Pod');
    (pod as any).spec.restartPolicy = 'Never';
    (pod as any).spec.terminationGracePeriodSeconds = 0;
    (pod as any).spec.containers[0].imagePullPolicy = 'Never';
    const out = applyDefaults(info, pod);
    expect(at(out, 'spec', 'restartPolicy')).toBe('Never');
    expect(at(out, 'spec', 'terminationGracePeriodSeconds')).toBe(0);
    expect(at(out, 'spec', 'containers', 0, 'imagePullPolicy')).toBe('Never');
  });

  it('picks imagePullPolicy from the tag like Kubernetes', () => {
    expect(defaultPullPolicy('nginx')).toBe('Always');
    expect(defaultPullPolicy('nginx:latest')).toBe('Always');
    expect(defaultPullPolicy('nginx:1.27')).toBe('IfNotPresent');
    expect(defaultPullPolicy('localhost:5000/app')).toBe('Always');
    expect(defaultPullPolicy('localhost:5000/app:v1')).toBe('IfNotPresent');
    expect(defaultPullPolicy('nginx@sha256:abc')).toBe('IfNotPresent');
  });

  it('fills deployment, replicaset and their templates', () => {
    const [info, deployment] = fixture('Deployment');
    delete (deployment as any).spec.replicas;
    const out = applyDefaults(info, deployment);
    expect(at(out, 'spec')).toMatchObject({
      replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
    });
    expect(at(out, 'spec', 'template', 'spec', 'restartPolicy')).toBe('Always');
    expect(at(out, 'spec', 'template', 'spec', 'containers', 0, 'imagePullPolicy')).toBe('IfNotPresent');

    const recreate = applyDefaults(info, { ...deployment, spec: { ...(deployment as any).spec, strategy: { type: 'Recreate' } } });
    expect(at(recreate, 'spec', 'strategy')).toEqual({ type: 'Recreate' });

    const [rsInfo, rs] = fixture('ReplicaSet');
    delete (rs as any).spec.replicas;
    expect(at(applyDefaults(rsInfo, rs), 'spec', 'replicas')).toBe(1);
  });

  it('fills services, secrets, namespaces', () => {
    const [svcInfo, svc] = fixture('Service');
    const out = applyDefaults(svcInfo, svc);
    expect(at(out, 'spec')).toMatchObject({ type: 'ClusterIP', sessionAffinity: 'None' });
    expect(at(out, 'spec', 'ports')).toEqual([
      { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
      { name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' },
    ]);
    const noTarget = applyDefaults(svcInfo, { ...svc, spec: { ports: [{ port: 80 }] } });
    expect(at(noTarget, 'spec', 'ports', 0, 'targetPort')).toBe(80);

    const [secretInfo, secret] = fixture('Secret');
    delete (secret as any).type;
    expect(at(applyDefaults(secretInfo, secret), 'type')).toBe('Opaque');

    const [nsInfo, ns] = fixture('Namespace');
    const nsOut = applyDefaults(nsInfo, ns);
    expect(at(nsOut, 'spec', 'finalizers')).toEqual(['kubernetes']);
    expect(at(nsOut, 'status', 'phase')).toBe('Active');
    expect(nsOut.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'team-a' });
  });

  it('merges Secret stringData into data (base64, overriding) and drops it, as Kubernetes stores it', () => {
    const [secretInfo, secret] = fixture('Secret');
    const out = applyDefaults(secretInfo, { ...secret, data: { a: 'b2xk', keep: 'eA==' }, stringData: { a: 'new', password: 'hunter2' } });
    expect(out['data']).toEqual({ a: 'bmV3', keep: 'eA==', password: 'aHVudGVyMg==' });
    expect('stringData' in out).toBe(false);
    // Not a map of strings: left for validation to refuse.
    const bad = applyDefaults(secretInfo, { ...secret, stringData: { a: 3 } });
    expect(bad['stringData']).toEqual({ a: 3 });
  });

  it('leaves kinds without defaults unchanged and survives malformed objects', () => {
    const [cmInfo, cm] = fixture('ConfigMap');
    expect(applyDefaults(cmInfo, cm)).toEqual(cm);
    for (const [info, object] of validObjects()) {
      for (const spec of [null, 3, 'x', [], { containers: 'nope', template: 7, ports: [null, 1] }]) {
        expect(() => applyDefaults(info, { ...object, spec })).not.toThrow();
      }
    }
  });
});
