/**
 * Label and field selectors: every operator kubectl and client-go send parses and matches as in
 * Kubernetes; bad syntax and unsupported fields are 400 BadRequest (never a silent match-all).
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../actors/apiserver/status.js';
import type { KubeObject } from '../../actors/apiserver/types.js';
import {
  fieldValue, formatLabelSelector, matchFields, matchLabels, parseFieldSelector, parseLabelSelector,
} from '../../actors/apiserver/registry/index.js';

const labels = { app: 'web', tier: 'frontend', 'example.com/track': 'stable', replicas: '3' };
const matches = (selector: string, have: Record<string, string> = labels): boolean => matchLabels(parseLabelSelector(selector), have);

function badRequest(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected a 400');
}

describe('label selectors', () => {
  it.each([
    ['', true], ['app=web', true], ['app==web', true], ['app=db', false], ['app!=db', true], ['app!=web', false],
    ['missing!=x', true], ['tier in (frontend,backend)', true], ['tier in (backend)', false], ['tier notin (backend)', true],
    ['tier notin (frontend)', false], ['missing notin (a)', true], ['missing in (a)', false], ['app', true], ['missing', false],
    ['!missing', true], ['!app', false], ['app=web,tier=frontend', true], ['app=web,tier=backend', false],
    ['app=web, tier in (frontend, x) ,!canary', true], ['example.com/track=stable', true], ['replicas>2', true], ['replicas<3', false],
    ['app=', false], ['missing=', false], ['tier in (frontend,)', true],
  ])('%s → %s', (selector, expected) => {
    expect(matches(selector)).toBe(expected);
  });

  it('an empty value matches an empty label', () => {
    expect(matches('app=', { app: '' })).toBe(true);
  });

  it.each(['a in (b', 'a in b)', '=x', 'a=b=c', 'in (a)', 'a b', '-bad=x', 'a=bad value', 'a<x', 'a,,b', 'a in ((b))', 'UPPER.example.com/x=1'])(
    'rejects %s with 400', (selector) => {
      const error = badRequest(() => parseLabelSelector(selector));
      expect([error.httpStatus, error.reason]).toEqual([400, 'BadRequest']);
    },
  );

  it('accepts `a=` and `a==` as a requirement on the empty value', () => {
    // Kubernetes accepts `a=` and `a==` as "label a has the empty value".
    expect(parseLabelSelector('a=')).toEqual([{ key: 'a', op: 'equals', value: '' }]);
    expect(parseLabelSelector('a==')).toEqual([{ key: 'a', op: 'equals', value: '' }]);
  });

  it('formats structured selectors as kubectl and the HPA read them', () => {
    expect(formatLabelSelector({ matchLabels: { b: '2', a: '1' } })).toBe('a=1,b=2');
    expect(formatLabelSelector({ matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }, { key: 'x', operator: 'DoesNotExist' }] }))
      .toBe('!x,env in (dev,prod)');
    expect(formatLabelSelector(undefined)).toBe('');
  });
});

describe('field selectors', () => {
  const podInfo = { resource: 'pods' };
  const pod: KubeObject = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default' },
    spec: { nodeName: 'n1', hostNetwork: true }, status: { phase: 'Running' },
  };

  it('matches metadata and per-kind fields with =, == and !=', () => {
    expect(matchFields(parseFieldSelector('metadata.name=p1', podInfo), pod)).toBe(true);
    expect(matchFields(parseFieldSelector('metadata.name==p2', podInfo), pod)).toBe(false);
    expect(matchFields(parseFieldSelector('spec.nodeName=n1,status.phase!=Succeeded,status.phase!=Failed', podInfo), pod)).toBe(true);
    expect(matchFields(parseFieldSelector('status.phase!=Running', podInfo), pod)).toBe(false);
    expect(matchFields(parseFieldSelector('spec.hostNetwork=true', podInfo), pod)).toBe(true);
    expect(matchFields(parseFieldSelector('spec.nodeName=', podInfo), { ...pod, spec: {} })).toBe(true);
  });

  it('knows event, secret, node and namespace fields', () => {
    const event: KubeObject = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, involvedObject: { kind: 'Node', name: 'n1', namespace: '' }, type: 'Normal', source: { component: 'kubelet' } };
    expect(matchFields(parseFieldSelector('involvedObject.kind=Node,involvedObject.name=n1,involvedObject.namespace=', { resource: 'events' }), event)).toBe(true);
    expect(fieldValue(event, 'source')).toBe('kubelet');
    expect(matchFields(parseFieldSelector('type=kubernetes.io/tls', { resource: 'secrets' }), { apiVersion: 'v1', kind: 'Secret', metadata: {}, type: 'kubernetes.io/tls' })).toBe(true);
    expect(matchFields(parseFieldSelector('spec.unschedulable=false', { resource: 'nodes' }), { apiVersion: 'v1', kind: 'Node', metadata: {} })).toBe(true);
    expect(() => parseFieldSelector('status.phase=Active', { resource: 'namespaces' })).not.toThrow();
  });

  it('rejects unsupported fields and bad syntax with 400', () => {
    expect(badRequest(() => parseFieldSelector('spec.nodeName=n1', { resource: 'configmaps' })).message).toBe('field label not supported: spec.nodeName');
    expect(badRequest(() => parseFieldSelector('metadata.name', podInfo)).httpStatus).toBe(400);
    expect(badRequest(() => parseFieldSelector('type=x', podInfo)).httpStatus).toBe(400);
  });
});
