/**
 * TLS bootstrap units: which CSR subjects and requesters are auto-approved (csr-subject.ts), the
 * minimal CertificateSigningRequest validation, and the signing decorator end to end around the
 * built-in admission (identity stamped, certificate signed by the CA for the bounded duration,
 * bootstrappers refused with the reason, spec immutable).
 */
import * as x509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { builtInAdmission, type AdmissionRequest } from '../../actors/apiserver/http/admission.js';
import { csrSigningLimits, durationOf, withCsrSigning } from '../../actors/apiserver/admission/csr-signing.js';
import { decideNodeClient, nodeSubjectName, parseCertificateRequest, type RequestedCertificate } from '../../actors/apiserver/admission/csr-subject.js';
import { createCa } from '../../actors/apiserver/pki.js';
import { findResource, type ResourceInfo } from '../../actors/apiserver/registry/resources.js';
import { ApiError } from '../../actors/apiserver/status.js';
import { toTable } from '../../actors/apiserver/table.js';
import type { KubeObject, UserInfo } from '../../actors/apiserver/types.js';
import { validate } from '../../actors/apiserver/validation.js';
import { csrObject, generateCsr } from './csr-fixtures.js';

const info = findResource('certificates.k8s.io', 'v1', 'certificatesigningrequests') as ResourceInfo;
const bootstrapper: UserInfo = { name: 'system:bootstrap:abcdef', uid: '', groups: ['system:bootstrappers', 'system:authenticated'] };
const node7: UserInfo = { name: 'system:node:n7', uid: '', groups: ['system:nodes', 'system:authenticated'] };
const admin: UserInfo = { name: 'kubus-admin', uid: 'a', groups: ['system:masters', 'system:authenticated'] };
const signer = 'kubernetes.io/kube-apiserver-client-kubelet';
const clientUsages = ['digital signature', 'key encipherment', 'client auth'];
const subjectOf = (...pairs: [string, string][]): RequestedCertificate => ({ subject: pairs, hasAlternativeNames: false });
const nodeSubject = (name: string): RequestedCertificate => subjectOf(['CN', `system:node:${name}`], ['O', 'system:nodes']);

describe('node client subject checks', () => {
  it('accepts exactly CN=system:node:<name>, O=system:nodes', () => {
    expect(nodeSubjectName(nodeSubject('n7'))).toEqual({ name: 'n7' });
  });

  it.each([
    ['another CN', subjectOf(['CN', 'admin'], ['O', 'system:nodes'])],
    ['O=system:masters', subjectOf(['CN', 'system:node:n7'], ['O', 'system:masters'])],
    ['a second O', subjectOf(['CN', 'system:node:n7'], ['O', 'system:nodes'], ['O', 'system:masters'])],
    ['no O', subjectOf(['CN', 'system:node:n7'])],
    ['an empty node name', subjectOf(['CN', 'system:node:'], ['O', 'system:nodes'])],
    ['an extra OU', subjectOf(['CN', 'system:node:n7'], ['O', 'system:nodes'], ['OU', 'x'])],
  ])('refuses %s, naming the wanted subject', (_label, requested) => {
    expect(nodeSubjectName(requested)).toEqual({ reason: expect.stringMatching(/subject must be exactly CN=system:node:<name>,O=system:nodes; got /) });
  });

  it('refuses subject alternative names', () => {
    expect(nodeSubjectName({ ...nodeSubject('n7'), hasAlternativeNames: true })).toEqual({ reason: expect.stringMatching(/no subject alternative names/) });
  });
});

describe('decideNodeClient', () => {
  const decide = (requester: UserInfo, requested = nodeSubject('n7'), usages = clientUsages, signerName = signer) =>
    decideNodeClient({ signerName, usages, requested, requester });

  it('approves a bootstrapper for any node name and a node for its own name', () => {
    expect(decide(bootstrapper)).toEqual({ approve: true, nodeName: 'n7' });
    expect(decide(node7)).toEqual({ approve: true, nodeName: 'n7' });
    expect(decide(bootstrapper, nodeSubject('n7'), ['digital signature', 'client auth'])).toEqual({ approve: true, nodeName: 'n7' });
  });

  it('refuses a node renewing for another name, and users that are neither', () => {
    expect(decide(node7, nodeSubject('n8'))).toEqual({ approve: false, reason: expect.stringMatching(/node n7 may renew only its own certificate/) });
    expect(decide(admin)).toEqual({ approve: false, reason: expect.stringMatching(/only a bootstrapper .* or the node itself/) });
  });

  it('refuses another signer, extra usages, and a request without client auth', () => {
    expect(decide(bootstrapper, nodeSubject('n7'), clientUsages, 'kubernetes.io/kubelet-serving')).toEqual({ approve: false, reason: expect.stringMatching(/signerName "kubernetes.io\/kubelet-serving" is not auto-approved/) });
    expect(decide(bootstrapper, nodeSubject('n7'), [...clientUsages, 'server auth'])).toEqual({ approve: false, reason: expect.stringMatching(/usages \["server auth"\] are not allowed/) });
    expect(decide(bootstrapper, nodeSubject('n7'), ['digital signature'])).toEqual({ approve: false, reason: expect.stringMatching(/must include "client auth"/) });
  });

  it('reads subject and SANs from a real CSR', async () => {
    const plain = await generateCsr('CN=system:node:n7, O=system:nodes');
    expect(parseCertificateRequest(plain.csrPem).requested).toEqual(nodeSubject('n7'));
    const withSans = await generateCsr('CN=system:node:n7, O=system:nodes', { dnsNames: ['evil.example'] });
    expect(parseCertificateRequest(withSans.csrPem).requested.hasAlternativeNames).toBe(true);
  });
});

describe('CertificateSigningRequest validation', () => {
  it('accepts a well-formed request and names each missing or bad field', async () => {
    const { csrPem } = await generateCsr('CN=system:node:n7, O=system:nodes');
    expect(validate(info, csrObject('ok', csrPem) as KubeObject, null)).toEqual([]);
    const bad = csrObject('bad', csrPem, { request: Buffer.from('hello').toString('base64'), signerName: 'nope', usages: ['client auth', 'client auth', 'teleport'], expirationSeconds: 60 });
    const fields = validate(info, bad as KubeObject, null).map((c) => c.field);
    expect(fields).toEqual(expect.arrayContaining(['spec.request', 'spec.signerName', 'spec.usages[1]', 'spec.usages[2]', 'spec.expirationSeconds']));
    const empty = { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'e' }, spec: {} };
    expect(validate(info, empty as KubeObject, null).map((c) => c.field)).toEqual(['spec.request', 'spec.signerName', 'spec.usages']);
  });

  it('bounds the requested duration to [600 s, one year]', () => {
    expect(durationOf({})).toBe(csrSigningLimits.durationMaxSeconds);
    expect(durationOf({ expirationSeconds: 10 * 365 * 86_400 })).toBe(csrSigningLimits.durationMaxSeconds);
    expect(durationOf({ expirationSeconds: 3_600 })).toBe(3_600);
    expect(durationOf({ expirationSeconds: 1 })).toBe(csrSigningLimits.durationMinSeconds);
  });
});

describe('withCsrSigning', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const request = (user: UserInfo, object: KubeObject, extra: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
    info, operation: 'CREATE', user, namespace: null, name: String(object.metadata.name), subresource: null, object, old: null, dryRun: false, ...extra,
  });

  it('stamps the requester, signs a node client certificate with the CA and marks it Approved', async () => {
    const ca = await createCa('test-ca');
    const admission = withCsrSigning(builtInAdmission, { caCertPem: ca.certPem, caKeyPem: ca.keyPem, clock: () => now });
    const { csrPem } = await generateCsr('CN=system:node:n7, O=system:nodes');
    const forged = csrObject('n7', csrPem, { username: 'kubus-admin', groups: ['system:masters'], expirationSeconds: 3_600 });
    const stored = await admission.admit(request(bootstrapper, { ...forged, status: { certificate: 'Zm9yZ2Vk' } } as unknown as KubeObject)) as KubeObject;
    const spec = stored['spec'] as Record<string, unknown>;
    expect(spec['username']).toBe('system:bootstrap:abcdef');
    expect(spec['groups']).toEqual(['system:bootstrappers', 'system:authenticated']);
    const status = stored['status'] as { conditions: { type: string; status: string }[]; certificate: string };
    expect(status.conditions[0]).toMatchObject({ type: 'Approved', status: 'True', reason: 'AutoApproved' });
    const cert = new x509.X509Certificate(Buffer.from(status.certificate, 'base64').toString('utf8'));
    expect(cert.subject).toBe('CN=system:node:n7, O=system:nodes');
    expect(await cert.verify({ publicKey: new x509.X509Certificate(ca.certPem).publicKey, signatureOnly: true })).toBe(true);
    expect(cert.notAfter.getTime() - now.getTime()).toBe(3_600_000);
    expect(now.getTime() - cert.notBefore.getTime()).toBe(csrSigningLimits.backdateSeconds * 1000);
    expect(toTable(info, [stored], { resourceVersion: '1', includeObject: 'None', now: now.getTime() }).rows[0]?.cells.slice(2))
      .toEqual([signer, 'system:bootstrap:abcdef', '60m', 'Approved,Issued']);
  });

  it('refuses a bootstrapper asking for a non-node identity (403 naming the subject); an admin\'s stays pending', async () => {
    const ca = await createCa('test-ca');
    const admission = withCsrSigning(builtInAdmission, { caCertPem: ca.certPem, caKeyPem: ca.keyPem, clock: () => now });
    const { csrPem } = await generateCsr('CN=admin, O=system:masters');
    const object = csrObject('admin', csrPem) as unknown as KubeObject;
    const refused = await admission.admit(request(bootstrapper, object)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).httpStatus).toBe(403);
    expect((refused as ApiError).message).toMatch(/got CN=admin,O=system:masters/);
    const pending = await admission.admit(request(admin, object)) as KubeObject;
    expect(pending['status']).toEqual({});
  });

  it('a dry run is approved but issues no certificate', async () => {
    const ca = await createCa('test-ca');
    const admission = withCsrSigning(builtInAdmission, { caCertPem: ca.certPem, caKeyPem: ca.keyPem, clock: () => now });
    const { csrPem } = await generateCsr('CN=system:node:n7, O=system:nodes');
    const stored = await admission.admit(request(bootstrapper, csrObject('n7', csrPem) as unknown as KubeObject, { dryRun: true })) as KubeObject;
    expect(stored['status']).toEqual({ conditions: [expect.objectContaining({ type: 'Approved' })] });
  });

  it('keeps the stored spec on update (a PUT cannot rewrite the requester)', async () => {
    const ca = await createCa('test-ca');
    const admission = withCsrSigning(builtInAdmission, { caCertPem: ca.certPem, caKeyPem: ca.keyPem, clock: () => now });
    const { csrPem } = await generateCsr('CN=system:node:n7, O=system:nodes');
    const old = await admission.admit(request(bootstrapper, csrObject('n7', csrPem) as unknown as KubeObject)) as KubeObject;
    const edited = { ...old, spec: { ...(old['spec'] as object), username: 'kubus-admin' } } as KubeObject;
    const updated = await admission.admit(request(admin, edited, { operation: 'UPDATE', old })) as KubeObject;
    expect((updated['spec'] as Record<string, unknown>)['username']).toBe('system:bootstrap:abcdef');
  });
});
