/**
 * Tokens kept in the cluster store, as Secrets in kube-system, so that creating or revoking one
 * takes effect on every member at once:
 * - kubus tokens (`kubus token create`): `kubus-<id>.<secret>`, Secret `kubus-token-<id>` of type
 *   `kubus.io/token` holding the SHA-256 of the token, the user, uid, groups and expiry — never the token.
 * - bootstrap tokens: `<6 chars>.<16 chars>`, Secret `bootstrap-token-<id>` of type
 *   `bootstrap.kubernetes.io/token` exactly as Kubernetes stores them (token-id, token-secret,
 *   expiration, usage-bootstrap-authentication). That format holds the secret itself; it is
 *   Kubernetes' and tooling (kubeadm) reads it, so kubus keeps it.
 * What a bootstrap token may do is authorization's business, not this file's: Kubernetes binds
 * `system:bootstrappers` to system:node-bootstrapper (create CertificateSigningRequests) only.
 * kubus does the same (authz/default-policy.ts): a bootstrap token can create a CSR for a node
 * identity, which the member signs at once (admission/csr-signing.ts), and nothing else beyond
 * what system:basic-user grants everyone (whoami, self reviews).
 * Revocation marks the Secret with the `kubus.io/revoked-at` annotation (rather than deleting it)
 * so a revoked token is answered "revoked", not "unknown", and `kubus token list` shows it.
 *
 * Decision: what a token record may claim is bounded where it is read, not only where it is
 * written (a user with `edit` in kube-system could write these Secrets directly). A bootstrap
 * token's extra groups must match Kubernetes' `system:bootstrappers:` pattern, and a kubus token
 * may name no `system:` user or group: that prefix is where every built-in power lives
 * (`system:masters`, `system:nodes`, `system:kube-controller-manager`, service accounts), and those
 * identities come from certificates, the static token file and ServiceAccount tokens. A record
 * that breaks either rule authenticates nobody (`TokenRecord.refusal`). Writing a record at all
 * needs the right to impersonate whom it names (token-record-guard.ts).
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { KubeObject, UserInfo } from '../types.js';

export const tokenNamespace = 'kube-system';
export const kubusTokenType = 'kubus.io/token';
export const bootstrapTokenType = 'bootstrap.kubernetes.io/token';
export const revokedAtAnnotation = 'kubus.io/revoked-at';
export const bootstrappersGroup = 'system:bootstrappers';

const kubusTokenPattern = /^kubus-([a-z0-9]{10})\.([A-Za-z0-9_-]{43})$/;
const bootstrapTokenPattern = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
const idAlphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Kubernetes' bootstrapapi.BootstrapGroupPattern: extra groups of a bootstrap token. */
const bootstrapGroupPattern = /^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/;
/** The prefix Kubernetes reserves for the system's own users and groups. */
const reservedPrefix = 'system:';

/** Why a kubus token may not carry this identity, or null when it may. */
export function kubusIdentityRefusal(user: Pick<UserInfo, 'name' | 'groups'>): string | null {
  if (user.name === '' || user.name.startsWith(reservedPrefix)) return `the user name ${JSON.stringify(user.name)} is empty or reserved (system:)`;
  const reserved = user.groups.filter((group) => group.startsWith(reservedPrefix));
  return reserved.length === 0 ? null : `the groups ${reserved.join(', ')} are reserved (system:) and are never granted by a stored token`;
}

/** Why a bootstrap token may not carry these extra groups, or null when it may. */
export function bootstrapGroupsRefusal(groups: readonly string[]): string | null {
  const bad = groups.filter((group) => !bootstrapGroupPattern.test(group));
  return bad.length === 0 ? null : `the extra groups ${bad.join(', ')} do not match system:bootstrappers:<name>`;
}

export type TokenKind = 'kubus' | 'bootstrap';

/** Which Secret a presented token would live in; null when it has neither shape. */
export function tokenSecretName(token: string): { kind: TokenKind; id: string; secretName: string } | null {
  const kubus = kubusTokenPattern.exec(token);
  if (kubus !== null) return { kind: 'kubus', id: kubus[1] as string, secretName: `kubus-token-${kubus[1] as string}` };
  const bootstrap = bootstrapTokenPattern.exec(token);
  if (bootstrap !== null) return { kind: 'bootstrap', id: bootstrap[1] as string, secretName: `bootstrap-token-${bootstrap[1] as string}` };
  return null;
}

/** The Secret names a token id may have, for `kubus token revoke <id>`. */
export function secretNamesForId(id: string): string[] {
  return [`kubus-token-${id}`, `bootstrap-token-${id}`];
}

function randomId(length: number): string {
  return Array.from({ length }, () => idAlphabet[randomInt(idAlphabet.length)]).join('');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

export interface NewToken {
  readonly id: string;
  readonly token: string;
  readonly secret: KubeObject;
}

/** A kubus token for `user`; `expiresAt` null never expires. */
export function newKubusToken(user: UserInfo, expiresAt: Date | null): NewToken {
  const refusal = kubusIdentityRefusal(user);
  if (refusal !== null) throw new RangeError(`a kubus token cannot be created: ${refusal}`);
  const id = randomId(10);
  const token = `kubus-${id}.${randomBytes(32).toString('base64url')}`;
  const data: Record<string, string> = {
    'token-id': b64(id), 'token-sha256': b64(sha256Hex(token)), user: b64(user.name), uid: b64(user.uid), groups: b64(user.groups.join(',')),
    ...(expiresAt !== null ? { expiration: b64(expiresAt.toISOString()) } : {}),
  };
  return { id, token, secret: secretObject(`kubus-token-${id}`, kubusTokenType, data) };
}

/** A bootstrap token (user `system:bootstrap:<id>`, group `system:bootstrappers`) in Kubernetes' Secret format. */
export function newBootstrapToken(expiresAt: Date | null, extraGroups: readonly string[] = []): NewToken {
  const refusal = bootstrapGroupsRefusal(extraGroups);
  if (refusal !== null) throw new RangeError(`a bootstrap token cannot be created: ${refusal}`);
  const id = randomId(6);
  const secret = randomId(16);
  const data: Record<string, string> = {
    'token-id': b64(id), 'token-secret': b64(secret), 'usage-bootstrap-authentication': b64('true'), 'usage-bootstrap-signing': b64('true'),
    ...(extraGroups.length > 0 ? { 'auth-extra-groups': b64(extraGroups.join(',')) } : {}),
    ...(expiresAt !== null ? { expiration: b64(expiresAt.toISOString()) } : {}),
  };
  return { id, token: `${id}.${secret}`, secret: secretObject(`bootstrap-token-${id}`, bootstrapTokenType, data) };
}

function secretObject(name: string, type: string, data: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: tokenNamespace }, type, data };
}

/** What a token Secret says, decoded; null when the Secret is not a token Secret. */
export interface TokenRecord {
  readonly kind: TokenKind;
  readonly id: string;
  readonly user: UserInfo;
  readonly expiresAt: Date | null;
  readonly revokedAt: string | null;
  /** kubus: the hex SHA-256 of the whole token; bootstrap: of the `<id>.<secret>` token rebuilt from the Secret. */
  readonly tokenSha256: string;
  /** Why this record authenticates nobody (a reserved identity, bad extra groups); null when it may. */
  readonly refusal: string | null;
}

export function tokenRecord(secret: KubeObject): TokenRecord | null {
  const data = (secret['data'] ?? {}) as Record<string, string>;
  const field = (key: string): string | undefined => (data[key] === undefined ? undefined : Buffer.from(data[key], 'base64').toString('utf8'));
  const expiration = field('expiration');
  const expiresAt = expiration === undefined ? null : new Date(expiration);
  const revokedAt = secret.metadata.annotations?.[revokedAtAnnotation] ?? null;
  const id = field('token-id') ?? '';
  if (secret['type'] === kubusTokenType) {
    const groups = field('groups') ?? '';
    const user = { name: field('user') ?? '', uid: field('uid') ?? '', groups: groups === '' ? [] : groups.split(',') };
    return { kind: 'kubus', id, expiresAt, revokedAt, tokenSha256: field('token-sha256') ?? '', user, refusal: kubusIdentityRefusal(user) };
  }
  if (secret['type'] === bootstrapTokenType) {
    if (field('usage-bootstrap-authentication') !== 'true') return null;
    const extra = field('auth-extra-groups') ?? '';
    const extraGroups = extra === '' ? [] : extra.split(',');
    return {
      kind: 'bootstrap', id, expiresAt, revokedAt, tokenSha256: sha256Hex(`${id}.${field('token-secret') ?? ''}`),
      user: { name: `system:bootstrap:${id}`, uid: '', groups: [bootstrappersGroup, ...extraGroups] }, refusal: bootstrapGroupsRefusal(extraGroups),
    };
  }
  return null;
}
