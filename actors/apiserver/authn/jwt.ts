/**
 * Compact JWS with ES256 (ECDSA P-256, SHA-256), the one algorithm kubus signs ServiceAccount
 * tokens with. Verification pins the algorithm: a token whose header names another (`none`,
 * `HS256` with the public key as secret) is refused before any signature check.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { credentialRejected } from './errors.js';

const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT' })).toString('base64url');

export function signJwt(claims: Record<string, unknown>, privateKeyPem: string): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), { key: createPrivateKey(privateKeyPem), dsaEncoding: 'ieee-p1363' });
  return `${header}.${payload}.${signature.toString('base64url')}`;
}

/** True when the token has a JWT's shape (three base64url parts, a JSON header): only then is it ours to judge. */
export function looksLikeJwt(token: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

/** The verified claims; throws 401 (malformed, badSignature) otherwise. */
export function verifyJwt(token: string, publicKey: KeyObject): Record<string, unknown> {
  const [head, payload, signature] = token.split('.') as [string, string, string];
  let alg: unknown;
  let claims: unknown;
  try {
    alg = (JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: unknown }).alg;
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw credentialRejected('malformed', 'the bearer token is not a valid JWT');
  }
  if (alg !== 'ES256') throw credentialRejected('badSignature', 'the JWT is not signed with ES256');
  const ok = verify('sha256', Buffer.from(`${head}.${payload}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  if (!ok) throw credentialRejected('badSignature', 'the JWT signature does not verify');
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw credentialRejected('malformed', 'the JWT claims are not an object');
  return claims as Record<string, unknown>;
}

export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey(pem);
}
