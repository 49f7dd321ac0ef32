/**
 * Client certificates signed by the cluster CA: subject CN is the user name, each O a group, as
 * Kubernetes' x509 authenticator reads them. The TLS layer (requestCert, rejectUnauthorized false,
 * ca = cluster CA) has already checked the chain and validity; a certificate it did not accept
 * is refused here with 401, never ignored, so a caller learns why.
 */
import type { UserInfo } from '../types.js';
import type { Authenticator } from './authenticator.js';
import { credentialRejected } from './errors.js';

export const clientCertificateAuthenticator: Authenticator = {
  authenticate({ clientCertificate: cert }) {
    if (cert === null) return null;
    if (!cert.authorized) {
      const expired = cert.authorizationError === 'CERT_HAS_EXPIRED';
      throw credentialRejected(expired ? 'expired' : 'untrustedCertificate',
        expired ? 'the client certificate has expired' : `the client certificate is not trusted (${cert.authorizationError ?? 'unverified'})`);
    }
    const name = first(cert.subject['CN']);
    if (name === undefined || name === '') throw credentialRejected('untrustedCertificate', 'the client certificate has no subject CN (the user name)');
    const groups = cert.subject['O'];
    const user: UserInfo = { name, uid: '', groups: groups === undefined ? [] : typeof groups === 'string' ? [groups] : [...groups] };
    return user;
  },
};

function first(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}
