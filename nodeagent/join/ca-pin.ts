/**
 * The CA pin of `--ca-cert-hash`, kubeadm's definition: `sha256:` + the hex SHA-256 of the CA
 * certificate's DER SubjectPublicKeyInfo. Pinning the public key (not the whole certificate)
 * means a CA re-issued with the same key keeps the same hash. `kubus up` prints it (H8 imports
 * `caCertHash` from here, so both sides share one definition).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { CaHashFormatError } from './errors.js';

const pinPattern = /^sha256:([0-9a-f]{64})$/;

/** `sha256:<hex>` of the certificate's SubjectPublicKeyInfo (PEM or DER in). */
export function caCertHash(certificate: string | Buffer): string {
  const spki = new X509Certificate(certificate).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** Normalizes a user-given pin (case, whitespace); refuses anything else with the expected form. */
export function parseCaHash(given: string): string {
  const normalized = given.trim().toLowerCase();
  if (!pinPattern.test(normalized)) throw new CaHashFormatError(given);
  return normalized;
}

/** Whether `certificate` is the pinned CA. */
export function matchesPin(certificate: string | Buffer, pin: string): boolean {
  return caCertHash(certificate) === pin;
}
