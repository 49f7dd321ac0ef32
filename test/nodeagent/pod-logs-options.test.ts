/**
 * The API side of `kubectl logs`, pure parts (actors/apiserver/http/pod-logs.ts): PodLogOptions read
 * from the query as kubectl sends them, with Kubernetes' validation (422 PodLogOptions), sinceSeconds
 * turned into a time; and the container to read with Kubernetes' 400 messages when none or an
 * unknown one is named.
 */
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseLogOptions, resolveContainer } from '../../actors/apiserver/http/pod-logs.js';

const now = new Date('2026-12-03T05:00:00Z');
const pod = (containers: string[], init: string[] = []): Pod => ({
  metadata: { name: 'web' },
  spec: { containers: containers.map((name) => ({ name })), ...(init.length > 0 ? { initContainers: init.map((name) => ({ name })) } : {}) },
});

describe('PodLogOptions', () => {
  it('reads what kubectl sends; false and unset ones are absent', () => {
    expect(parseLogOptions(new URLSearchParams('container=app&follow=true&previous=true&tailLines=5&timestamps=true&limitBytes=1000&sinceSeconds=10'), now)).toEqual({
      container: 'app', follow: true, previous: true, tailLines: 5, timestamps: true, limitBytes: 1000, sinceTime: '2026-12-03T04:59:50.000Z',
    });
    expect(parseLogOptions(new URLSearchParams(''), now)).toEqual({
      container: null, follow: false, previous: false, tailLines: null, timestamps: false, limitBytes: null, sinceTime: null,
    });
    expect(parseLogOptions(new URLSearchParams('sinceTime=2026-12-03T04:00:00Z'), now).sinceTime).toBe('2026-12-03T04:00:00Z');
  });

  it('refuses what Kubernetes refuses, with 422', () => {
    for (const query of ['tailLines=-1', 'limitBytes=0', 'sinceSeconds=0', 'sinceTime=yesterday', 'sinceSeconds=5&sinceTime=2026-12-03T04:00:00Z']) {
      expect(() => parseLogOptions(new URLSearchParams(query), now), query).toThrow(/PodLogOptions "" is invalid/);
    }
    expect(() => parseLogOptions(new URLSearchParams('sinceSeconds=5&sinceTime=2026-12-03T04:00:00Z'), now)).toThrow('at most one of `sinceTime` or `sinceSeconds` may be specified');
  });
});

describe('container to read', () => {
  it('takes the only container, or the one named (init containers too)', () => {
    expect(resolveContainer(pod(['app']), null)).toBe('app');
    expect(resolveContainer(pod(['app', 'side'], ['setup']), 'setup')).toBe('setup');
  });

  it('answers Kubernetes\' 400s', () => {
    expect(() => resolveContainer(pod(['app', 'side']), null)).toThrow('a container name must be specified for pod web, choose one of: [app side]');
    expect(() => resolveContainer(pod(['app', 'side'], ['setup']), null)).toThrow('a container name must be specified for pod web, choose one of: [app side] or one of the init containers: [setup]');
    expect(() => resolveContainer(pod(['app']), 'nope')).toThrow('container nope is not valid for pod web');
  });
});
