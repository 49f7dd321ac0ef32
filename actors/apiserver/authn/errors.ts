/**
 * Authentication failures. Each is a 401 Unauthorized Status whose message says what was wrong
 * with the credential (expired, revoked, unknown CA) and what to do, and never echoes the credential.
 */
import { ApiError } from '../status.js';

export type CredentialProblem =
  | 'expired' | 'revoked' | 'unknown' | 'malformed' | 'badSignature' | 'untrustedCertificate' | 'serviceAccountGone'
  | 'refusedIdentity' | 'wrongAudience' | 'notYetValid';

const advice: Record<CredentialProblem, string> = {
  expired: 'ask an administrator for a new one (kubus token create)',
  revoked: 'it was revoked; ask an administrator for a new one (kubus token create)',
  unknown: 'check the token in your kubeconfig',
  malformed: 'check the token in your kubeconfig',
  badSignature: 'it was not signed by this cluster; request a new one',
  untrustedCertificate: 'use a certificate signed by this cluster\'s CA (pki/ca.crt)',
  serviceAccountGone: 'its ServiceAccount was deleted or recreated; request a new token for the current one',
  refusedIdentity: 'ask an administrator for a token that names no reserved (system:) identity',
  wrongAudience: 'request a token for this API server\'s audience',
  notYetValid: 'check the clocks of the issuer and this server',
};

export class CredentialRejectedError extends ApiError {
  constructor(readonly problem: CredentialProblem, what: string) {
    super(401, 'Unauthorized', `Unauthorized: ${what}; ${advice[problem]}`);
  }
}

export function credentialRejected(problem: CredentialProblem, what: string): CredentialRejectedError {
  return new CredentialRejectedError(problem, what);
}
