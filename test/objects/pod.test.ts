/**
 * Pod facts as Kubernetes derives them: effective requests (containers summed, at least the
 * largest ordinary init container, sidecars counted beside what starts after them, plus
 * overhead) and the QoS class.
 */
import { describe, expect, test } from 'vitest';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { podRequests, qosClass } from '../../actors/objects/index.js';

const c = (name: string, requests?: Record<string, string>, limits?: Record<string, string>, restartPolicy?: 'Always'): Container => ({
  name, image: 'i', resources: { ...(requests !== undefined ? { requests } : {}), ...(limits !== undefined ? { limits } : {}) },
  ...(restartPolicy !== undefined ? { restartPolicy } : {}),
});
const pod = (spec: NonNullable<Pod['spec']>): Pick<Pod, 'spec'> => ({ spec });

describe('podRequests', () => {
  test('containers are summed; a limit without a request counts as the request', () => {
    expect(podRequests(pod({ containers: [c('a', { cpu: '250m', memory: '1Gi' }), c('b', undefined, { cpu: '500m' })] })))
      .toEqual({ cpu: 0.75, memory: 1024 ** 3 });
  });

  test('an ordinary init container larger than the containers sets the request (max, not sum)', () => {
    const spec = { initContainers: [c('init1', { cpu: '2', memory: '64Mi' }), c('init2', { cpu: '500m', memory: '2Gi' })], containers: [c('app', { cpu: '1', memory: '1Gi' })] };
    expect(podRequests(pod(spec))).toEqual({ cpu: 2, memory: 2 * 1024 ** 3 });
  });

  test('sidecars (restartPolicy Always) add to the containers and run beside later init containers', () => {
    const spec = {
      initContainers: [c('proxy', { cpu: '500m' }, undefined, 'Always'), c('migrate', { cpu: '1' })],
      containers: [c('app', { cpu: '250m' })],
    };
    // Steady state: app + proxy = 0.75; while migrate runs: proxy + migrate = 1.5.
    expect(podRequests(pod(spec))).toEqual({ cpu: 1.5 });
    // An init container started before the sidecar does not run beside it.
    const before = { initContainers: [c('migrate', { cpu: '1' }), c('proxy', { cpu: '500m' }, undefined, 'Always')], containers: [c('app', { cpu: '250m' })] };
    expect(podRequests(pod(before))).toEqual({ cpu: 1 });
  });

  test('pod overhead is added on top', () => {
    expect(podRequests(pod({ containers: [c('a', { cpu: '1', memory: '128Mi' })], overhead: { cpu: '250m', memory: '64Mi' } })))
      .toEqual({ cpu: 1.25, memory: 192 * 1024 ** 2 });
  });
});

describe('qosClass', () => {
  test('no requests or limits anywhere: BestEffort', () => {
    expect(qosClass(pod({ containers: [c('a'), c('b', { 'ephemeral-storage': '1Gi' })] }))).toBe('BestEffort');
  });

  test('every container with cpu and memory limits equal to requests (or limits alone): Guaranteed', () => {
    expect(qosClass(pod({ containers: [c('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' }), c('b', undefined, { cpu: '500m', memory: '256Mi' })] }))).toBe('Guaranteed');
  });

  test('any request below its limit, or a resource without a limit: Burstable', () => {
    expect(qosClass(pod({ containers: [c('a', { cpu: '500m', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })] }))).toBe('Burstable');
    expect(qosClass(pod({ containers: [c('a', { cpu: '1' }, { cpu: '1' })] }))).toBe('Burstable');
    expect(qosClass(pod({ initContainers: [c('i', { cpu: '100m' })], containers: [c('a', { cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })] }))).toBe('Burstable');
  });
});
