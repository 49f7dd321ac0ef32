/**
 * The authentication layer's pure parts, without a cluster: the union's precedence (first user
 * wins, a rejection is answered only when nobody accepts), the bounded TTL cache behind the
 * store-backed authenticators, JWT algorithm pinning, the token Secret formats (kubus tokens hold
 * only a digest; bootstrap tokens follow Kubernetes), and the stored-token checks on a fake store.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../bus/index.js';
import {
  CredentialRejectedError, StoredTokenAuthenticator, TtlCache, credentialRejected, newBootstrapToken, newKubusToken, revokedAtAnnotation,
  tokenRecord, tokenSecretName, unionAuthenticator, type AuthenticationRequest,
} from '../../actors/apiserver/authn/index.js';
import { publicKeyFromPem, signJwt, verifyJwt } from '../../actors/apiserver/authn/jwt.js';
import { apiErrors } from '../../actors/apiserver/status.js';
import type { KubeObject } from '../../actors/apiserver/types.js';

const bearer = (token: string): AuthenticationRequest => ({ authorization: `Bearer ${token}`, clientCertificate: null });

describe('unionAuthenticator', () => {
  const alice = { name: 'alice', uid: 'a', groups: ['dev'] };
  it('answers the first user, adds system:authenticated, and answers a rejection only when nobody accepts', async () => {
    const rejecting = { authenticate: () => { throw credentialRejected('expired', 'the token expired'); } };
    const accepting = { authenticate: () => alice };
    expect(await unionAuthenticator([rejecting, accepting]).authenticate(bearer('x'))).toEqual({ ...alice, groups: ['dev', 'system:authenticated'] });
    await expect(unionAuthenticator([rejecting, { authenticate: () => null }]).authenticate(bearer('x'))).rejects.toBeInstanceOf(CredentialRejectedError);
    expect(await unionAuthenticator([{ authenticate: () => null }]).authenticate(bearer('x'))).toBeNull();
  });
});

describe('TtlCache', () => {
  it('forgets entries after the TTL and evicts the oldest when full', async () => {
    const clock = new SimulatedClock();
    const cache = new TtlCache<number>(clock, { ttlMs: 1_000, entriesMax: 2 });
    let loads = 0;
    expect(await cache.getOrLoad('a', async () => ++loads)).toBe(1);
    expect(await cache.getOrLoad('a', async () => ++loads)).toBe(1);
    clock.advance(1_000);
    expect(await cache.getOrLoad('a', async () => ++loads)).toBe(2);
    cache.set('b', 10);
    cache.set('c', 20);
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toBe(20);
  });
});

describe('JWT', () => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const publicKey = publicKeyFromPem(pair.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  it('verifies its own ES256 tokens and refuses alg none and tampered payloads', () => {
    const token = signJwt({ sub: 'x' }, privatePem);
    expect(verifyJwt(token, publicKey)).toEqual({ sub: 'x' });
    const [, payload, signature] = token.split('.') as [string, string, string];
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.${signature}`;
    expect(() => verifyJwt(none, publicKey)).toThrow(/not signed with ES256/);
    const tampered = token.replace(payload, Buffer.from(JSON.stringify({ sub: 'admin' })).toString('base64url'));
    expect(() => verifyJwt(tampered, publicKey)).toThrow(/signature does not verify/);
  });
});

describe('token Secrets', () => {
  it('kubus tokens store a digest, never the token; bootstrap tokens use Kubernetes\' format', () => {
    const kubus = newKubusToken({ name: 'carol', uid: 'c', groups: ['g1', 'g2'] }, null);
    expect(JSON.stringify(kubus.secret)).not.toContain(kubus.token.split('.')[1] as string);
    expect(tokenSecretName(kubus.token)).toEqual({ kind: 'kubus', id: kubus.id, secretName: `kubus-token-${kubus.id}` });
    expect(tokenRecord(kubus.secret)).toMatchObject({ kind: 'kubus', user: { name: 'carol', uid: 'c', groups: ['g1', 'g2'] }, expiresAt: null, revokedAt: null });
    const bootstrap = newBootstrapToken(new Date('2030-01-01T00:00:00Z'));
    expect(bootstrap.token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(bootstrap.secret).toMatchObject({ type: 'bootstrap.kubernetes.io/token', metadata: { name: `bootstrap-token-${bootstrap.id}`, namespace: 'kube-system' } });
    expect(tokenRecord(bootstrap.secret)?.user).toEqual({ name: `system:bootstrap:${bootstrap.id}`, uid: '', groups: ['system:bootstrappers'] });
    expect(tokenSecretName('plain-static-token')).toBeNull();
  });

  it('the stored-token authenticator: valid, wrong secret, revoked, expired, unknown', async () => {
    const clock = new SimulatedClock();
    const now = new Date('2026-01-01T00:00:00Z');
    const secrets = new Map<string, KubeObject>();
    const objects = {
      get: async (_info: unknown, _ns: string | null, name: string) => {
        const found = secrets.get(name);
        if (found === undefined) throw apiErrors.notFound('secrets', '', name);
        return found;
      },
    };
    const authenticator = new StoredTokenAuthenticator({ objects: objects as never, clock, wallClock: () => now });
    const good = newKubusToken({ name: 'dave', uid: 'd', groups: [] }, new Date(now.getTime() + 60_000));
    secrets.set(`kubus-token-${good.id}`, good.secret);
    expect(await authenticator.authenticate(bearer(good.token))).toMatchObject({ name: 'dave' });
    // One character changed (never to itself: a random token may already end in 'A').
    const tampered = `${good.token.slice(0, -1)}${good.token.endsWith('A') ? 'B' : 'A'}`;
    await expect(authenticator.authenticate(bearer(tampered))).rejects.toThrow(/is not valid/);
    secrets.set(`kubus-token-${good.id}`, { ...good.secret, metadata: { ...good.secret.metadata, annotations: { [revokedAtAnnotation]: 'then' } } });
    // Cached for the TTL, then re-read: that TTL is the revocation delay.
    expect(await authenticator.authenticate(bearer(good.token))).toMatchObject({ name: 'dave' });
    clock.advance(1_000);
    await expect(authenticator.authenticate(bearer(good.token))).rejects.toThrow(/was revoked/);
    const old = newKubusToken({ name: 'eve', uid: 'e', groups: [] }, new Date(now.getTime() - 1));
    secrets.set(`kubus-token-${old.id}`, old.secret);
    await expect(authenticator.authenticate(bearer(old.token))).rejects.toThrow(/expired/);
    await expect(authenticator.authenticate(bearer(newKubusToken({ name: 'x', uid: 'x', groups: [] }, null).token))).rejects.toThrow(/is not valid/);
    expect(await authenticator.authenticate({ authorization: undefined, clientCertificate: null })).toBeNull();
  });
});
