/** Test helpers for TLS bootstrap: a key pair and a PEM CSR made the way a kubelet makes them. */
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface GeneratedCsr {
  readonly csrPem: string;
  readonly keyPem: string;
}

/** A CSR for `subject` (e.g. `CN=system:node:n7,O=system:nodes`), optionally asking for DNS names. */
export async function generateCsr(subject: string, options: { dnsNames?: readonly string[] } = {}): Promise<GeneratedCsr> {
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject, keys, signingAlgorithm: algorithm,
    extensions: options.dnsNames === undefined ? [] : [new x509.SubjectAlternativeNameExtension(options.dnsNames.map((value) => ({ type: 'dns' as const, value })))],
  });
  const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { csrPem: csr.toString('pem'), keyPem };
}

/** A CertificateSigningRequest object for `csrPem`. */
export function csrObject(name: string, csrPem: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name },
    spec: {
      request: Buffer.from(csrPem, 'utf8').toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet',
      usages: ['digital signature', 'key encipherment', 'client auth'], ...spec,
    },
  };
}
