/**
 * The per-namespace defaults, exactly: the `default` ServiceAccount's shape, which namespaces are
 * Active, and the root-CA ConfigMap's create, correction (edited CA, extra key, lost description)
 * and no-op.
 */
import { describe, expect, it } from 'vitest';
import type { ConfigMap } from 'kubernetes-types/core/v1.js';
import { defaultServiceAccount, descriptionAnnotation, isNamespaceActive, rootCaAction, rootCaDescription } from '../../actors/controllers/serviceaccount/index.js';

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('namespace defaults', () => {
  it('the default ServiceAccount', () => {
    expect(defaultServiceAccount('team')).toEqual({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'team' } });
  });

  it('Active namespaces: no phase yet or Active, not deleting', () => {
    expect(isNamespaceActive({ metadata: { name: 'a' } })).toBe(true);
    expect(isNamespaceActive({ metadata: { name: 'a' }, status: { phase: 'Active' } })).toBe(true);
    expect(isNamespaceActive({ metadata: { name: 'a' }, status: { phase: 'Terminating' } })).toBe(false);
    expect(isNamespaceActive({ metadata: { name: 'a', deletionTimestamp: '2026-01-01T00:00:00Z' }, status: { phase: 'Active' } })).toBe(false);
  });

  it('creates the root-CA ConfigMap with Kubernetes description', () => {
    expect(rootCaAction('team', undefined, pem)).toEqual({ kind: 'create', body: {
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: 'kube-root-ca.crt', namespace: 'team', annotations: { 'kubernetes.io/description': rootCaDescription } },
      data: { 'ca.crt': pem },
    } });
    expect(rootCaDescription).toMatch(/^Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes\.default\.svc\. No other usage is guaranteed/);
  });

  it('leaves a correct one alone and corrects an edited CA, an added key or a removed description', () => {
    const stored: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: 'team', resourceVersion: '5', annotations: { [descriptionAnnotation]: rootCaDescription } }, data: { 'ca.crt': pem } };
    expect(rootCaAction('team', stored, pem)).toEqual({ kind: 'none' });
    const edited = rootCaAction('team', { ...stored, data: { 'ca.crt': 'forged' } }, pem);
    expect(edited).toEqual({ kind: 'update', body: stored });
    expect(rootCaAction('team', { ...stored, data: { 'ca.crt': pem, extra: 'x' } }, pem)).toEqual({ kind: 'update', body: stored });
    const bare = rootCaAction('team', { ...stored, metadata: { ...stored.metadata, annotations: { other: 'kept' } } }, pem);
    expect(bare).toEqual({ kind: 'update', body: { ...stored, metadata: { ...stored.metadata, annotations: { other: 'kept', [descriptionAnnotation]: rootCaDescription } } } });
  });
});
