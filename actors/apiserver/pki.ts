/**
 * The cluster's certificate authority and the API server's serving certificate: kubectl sends
 * credentials only over TLS, so every cluster gets its own CA.
 *
 * Decision: @peculiar/x509 builds the certificates (a maintained, typed X.509 library on the
 * platform's WebCrypto, no native code); keys are ECDSA P-256, the curve every TLS stack accepts.
 */
import { webcrypto, randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export const pkiLimits = {
  /** The CA outlives every certificate it signs; regenerating it means new kubeconfigs. */
  caValidityDays: 3_650,
  servingValidityDays: 365,
  /** Client certificates are credentials a person carries: a year, as kubeadm's admin.conf. */
  clientValidityDays: 365,
} as const;

export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export async function createCa(commonName: string): Promise<PemPair> {
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    ...validity(pkiLimits.caValidityDays),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/** A serving certificate for the API server, signed by the cluster CA, valid for the given names. */
export async function issueServingCert(ca: PemPair, names: { dnsNames: readonly string[]; ipAddresses: readonly string[] }): Promise<PemPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.keyPem), algorithm, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=kubus-apiserver',
    issuer: caCert.subject,
    ...validity(pkiLimits.servingValidityDays),
    signingAlgorithm: algorithm,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...names.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

/**
 * A client certificate signed by the cluster CA: subject CN = user name, one O per group, which is
 * how the API server's x509 authenticator reads it (and how kubectl presents it from a kubeconfig).
 * `validity` overrides the default window (tests use it for an expired certificate).
 */
export async function issueClientCert(ca: PemPair, user: { commonName: string; organizations?: readonly string[] },
  options: { validity?: { notBefore: Date; notAfter: Date } } = {}): Promise<PemPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.keyPem), algorithm, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const subject = [{ CN: [user.commonName] }, ...(user.organizations ?? []).map((o) => ({ O: [o] }))];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: new x509.Name(subject).toString(),
    issuer: caCert.subject,
    ...(options.validity ?? validity(pkiLimits.clientValidityDays)),
    signingAlgorithm: algorithm,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) };
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** Positive 128-bit serial: RFC 5280 wants unique, non-negative serials of at most 20 octets. */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  // Back-dated an hour: a peer whose clock is a little behind still accepts the certificate.
  const notBefore = new Date(Date.now() - 3_600_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * 86_400_000) };
}
