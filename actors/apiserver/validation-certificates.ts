/**
 * CertificateSigningRequest validation (certificates.k8s.io/v1), minimal: spec.request is base64 of
 * a PEM CERTIFICATE REQUEST, spec.signerName is a qualified `<domain>/<path>` name, usages are
 * Kubernetes' known key usages without duplicates, expirationSeconds is at least 600, and the spec
 * is immutable after create. Whether the request is signed is admission's (admission/csr-signing.ts).
 */
import { Causes, jsonEqual, type Obj } from './validation-core.js';

/** Kubernetes' KeyUsage values (certificates/v1 types.go). */
export const knownKeyUsages: readonly string[] = [
  'signing', 'digital signature', 'content commitment', 'key encipherment', 'key agreement', 'data encipherment', 'cert sign',
  'crl sign', 'encipher only', 'decipher only', 'any', 'server auth', 'client auth', 'code signing', 'email protection', 's/mime',
  'ipsec end system', 'ipsec tunnel', 'ipsec user', 'timestamping', 'ocsp signing', 'microsoft sgc', 'netscape sgc',
];

/** Kubernetes' minimum spec.expirationSeconds: ten minutes. */
const expirationSecondsMin = 600;
const base64 = /^[A-Za-z0-9+/]*={0,2}$/;
const pemCsr = /-----BEGIN (NEW )?CERTIFICATE REQUEST-----/;
const signerNamePattern = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export function validateCertificateSigningRequest(c: Causes, object: Obj, old: Obj | null): void {
  const spec = c.obj('spec', object['spec']);
  if (spec === undefined) { c.required('spec'); return; }
  const request = c.str('spec.request', spec['request']);
  if (request === undefined || request === '') c.required('spec.request');
  else if (!base64.test(request) || !pemCsr.test(Buffer.from(request, 'base64').toString('utf8'))) {
    c.invalid('spec.request', '<request>', 'must be the base64 encoding of a PEM-encoded CERTIFICATE REQUEST');
  }
  const signerName = c.str('spec.signerName', spec['signerName']);
  if (signerName === undefined || signerName === '') c.required('spec.signerName');
  else if (!signerNamePattern.test(signerName)) c.invalid('spec.signerName', signerName, 'must be a fully qualified domain and path of the form "example.com/signer-name"');
  const usages = c.arr('spec.usages', spec['usages']);
  if (usages === undefined || usages.length === 0) c.required('spec.usages');
  else {
    const seen = new Set<string>();
    usages.forEach((usage, i) => {
      const value = c.str(`spec.usages[${i}]`, usage);
      if (value === undefined) return;
      if (seen.has(value)) c.duplicate(`spec.usages[${i}]`, value);
      seen.add(value);
      if (!knownKeyUsages.includes(value)) c.notSupported(`spec.usages[${i}]`, value, knownKeyUsages);
    });
  }
  const expiration = c.int('spec.expirationSeconds', spec['expirationSeconds']);
  if (expiration !== undefined && expiration < expirationSecondsMin) c.invalid('spec.expirationSeconds', expiration, `may not specify a duration less than ${expirationSecondsMin} seconds`);
  if (old !== null && !jsonEqual(object['spec'], old['spec'])) c.forbidden('spec', 'field is immutable');
}
