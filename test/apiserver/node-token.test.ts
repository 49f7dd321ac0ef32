/**
 * Node API tokens and the rules around node credentials, without a cluster:
 * - the node token authenticator accepts a token it issued as `system:node:<name>` in
 *   `system:nodes`; refuses an expired one, one signed by another key, one meant for another
 *   audience (401, saying which); leaves other JWTs (ServiceAccount tokens) and non-JWTs to the
 *   other authenticators; and refuses a token of a node whose identity was revoked after it was issued;
 * - a node's certificate is checked the same way through its issue time (notBefore + back-dating);
 * - the Node authorizer lets a node create only its own `nodes/<name>/credentials`;
 * - the route parser accepts that subresource on nodes only.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../bus/index.js';
import {
  NodeIdentityGuard, NodeTokenAuthenticator, clientCertificateAuthenticator, guardedCertificateAuthenticator, issueNodeToken,
  issueServiceAccountToken, newNodeIdentity, nodeIdentitySecret, type ClientCertificate,
} from '../../actors/apiserver/authn/index.js';
import { signJwt } from '../../actors/apiserver/authn/jwt.js';
import { NodeGraph, authorizeNode } from '../../actors/apiserver/authz/index.js';
import type { Attributes } from '../../actors/apiserver/authz/rbac-rules.js';
import { parseRoute } from '../../actors/apiserver/http/route.js';
import { ApiError } from '../../actors/apiserver/status.js';
import type { KubeObject } from '../../actors/apiserver/types.js';

const pair = (): { privateKeyPem: string; publicKeyPem: string } => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
};
const keys = pair();
const now = new Date('2026-12-03T05:00:00.000Z');
const bearer = (token: string) => ({ authorization: `Bearer ${token}`, clientCertificate: null });

/** A store holding at most one identity record, revoked at `revokedAt` when given. */
function storeWith(revokedAt: Date | null): { get: () => Promise<KubeObject> } {
  const identity = { ...newNodeIdentity('n1', 'abcdef', { name: 'node-n1', publicKey: 'U', issuedAtMs: 0, expiresAtMs: 1 }), revokedAt, revokedReason: revokedAt === null ? null : 'its bootstrap token abcdef was revoked', revokedTokenId: 'abcdef' };
  return { get: async () => nodeIdentitySecret(identity) };
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).httpStatus).toBe(401);
  return (error as ApiError).message;
}

describe('node API tokens', () => {
  const authenticator = new NodeTokenAuthenticator({ publicKeyPem: keys.publicKeyPem, wallClock: () => now });

  it('authenticate as system:node:<name> in system:nodes, expiring after the TTL', async () => {
    const issued = issueNodeToken({ privateKeyPem: keys.privateKeyPem, node: 'n1', now, ttlSeconds: 3_600 });
    expect(issued.expiresAt.toISOString()).toBe('2026-12-03T06:00:00.000Z');
    await expect(authenticator.authenticate(bearer(issued.token))).resolves.toEqual({ name: 'system:node:n1', uid: '', groups: ['system:nodes'] });
  });

  it('refuse an expired token (past the clock leeway), another key\'s, another audience\'s', async () => {
    const old = issueNodeToken({ privateKeyPem: keys.privateKeyPem, node: 'n1', now: new Date(now.getTime() - 3 * 3_600_000), ttlSeconds: 3_600 });
    expect(await rejection(authenticator.authenticate(bearer(old.token)))).toMatch(/the API token of node n1 expired at .*nodes\/n1\/credentials/);
    const foreign = issueNodeToken({ privateKeyPem: pair().privateKeyPem, node: 'n1', now, ttlSeconds: 3_600 });
    expect(await rejection(authenticator.authenticate(bearer(foreign.token)))).toMatch(/signature does not verify/);
    const iat = Math.floor(now.getTime() / 1000);
    const otherAudience = signJwt({ iss: 'kubus:node', aud: ['vault'], sub: 'system:node:n1', 'kubus.io/node': 'n1', iat, exp: iat + 60 }, keys.privateKeyPem);
    expect(await rejection(authenticator.authenticate(bearer(otherAudience)))).toMatch(/not meant for this API/);
    const forged = signJwt({ iss: 'kubus:node', aud: ['kubus:node'], sub: 'system:node:n2', 'kubus.io/node': 'n1', iat, exp: iat + 60 }, keys.privateKeyPem);
    expect(await rejection(authenticator.authenticate(bearer(forged)))).toMatch(/not a node token/);
  });

  it('leave ServiceAccount tokens and other bearer tokens to their own authenticators', async () => {
    const serviceAccount: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'ns', uid: 'u1' } };
    const token = issueServiceAccountToken({ privateKeyPem: keys.privateKeyPem, serviceAccount, now, expirationSeconds: 3_600 }).token;
    await expect(authenticator.authenticate(bearer(token))).resolves.toBeNull();
    await expect(authenticator.authenticate(bearer('abcdef.0123456789abcdef'))).resolves.toBeNull();
    await expect(authenticator.authenticate({ authorization: undefined, clientCertificate: null })).resolves.toBeNull();
  });

  it('refuse a token issued before its node\'s identity was revoked; pass one issued in a later second', async () => {
    const revokedAt = new Date(now.getTime() + 500);
    const guard = new NodeIdentityGuard(storeWith(revokedAt), new SimulatedClock());
    const guarded = new NodeTokenAuthenticator({ publicKeyPem: keys.publicKeyPem, wallClock: () => new Date(now.getTime() + 5_000), guard });
    const before = issueNodeToken({ privateKeyPem: keys.privateKeyPem, node: 'n1', now, ttlSeconds: 3_600 });
    expect(await rejection(guarded.authenticate(bearer(before.token)))).toMatch(/identity of node n1 was revoked at .*bootstrap token abcdef was revoked.*join again with a new token/);
    const sameSecond = issueNodeToken({ privateKeyPem: keys.privateKeyPem, node: 'n1', now: new Date(now.getTime() + 900), ttlSeconds: 3_600 });
    await rejection(guarded.authenticate(bearer(sameSecond.token)));
    const after = issueNodeToken({ privateKeyPem: keys.privateKeyPem, node: 'n1', now: new Date(now.getTime() + 1_000), ttlSeconds: 3_600 });
    await expect(guarded.authenticate(bearer(after.token))).resolves.toMatchObject({ name: 'system:node:n1' });
    const unrevoked = new NodeTokenAuthenticator({ publicKeyPem: keys.publicKeyPem, wallClock: () => now, guard: new NodeIdentityGuard(storeWith(null), new SimulatedClock()) });
    await expect(unrevoked.authenticate(bearer(before.token))).resolves.toMatchObject({ name: 'system:node:n1' });
  });
});

describe('node client certificates against the identity record', () => {
  const certificate = (notBefore: Date, cn = 'system:node:n1'): ClientCertificate & { notBeforeMs: number } => ({
    authorized: true, authorizationError: null, subject: { CN: cn, O: 'system:nodes' }, notBeforeMs: notBefore.getTime(),
  });
  const revokedAt = new Date('2026-12-03T05:00:00.500Z');
  const authenticator = guardedCertificateAuthenticator(clientCertificateAuthenticator, new NodeIdentityGuard(storeWith(revokedAt), new SimulatedClock()));

  it('refuse a certificate issued before the revocation (notBefore is back-dated 5 min by the signer), pass one issued after', async () => {
    const issuedBefore = new Date('2026-12-03T04:55:00.000Z'); // signed at 05:00:00
    expect(await rejection(Promise.resolve(authenticator.authenticate({ authorization: undefined, clientCertificate: certificate(issuedBefore) })))).toMatch(/join again/);
    const issuedAfter = new Date('2026-12-03T04:55:01.000Z'); // signed at 05:00:01
    await expect(authenticator.authenticate({ authorization: undefined, clientCertificate: certificate(issuedAfter) })).resolves.toMatchObject({ name: 'system:node:n1' });
  });

  it('leave certificates of users that are not nodes alone', async () => {
    await expect(authenticator.authenticate({ authorization: undefined, clientCertificate: certificate(new Date(0), 'alice') })).resolves.toMatchObject({ name: 'alice' });
  });
});

describe('the Node authorizer and nodes/<name>/credentials', () => {
  const graph = new NodeGraph({ pods: () => [], pvc: () => undefined });
  const credentials = (verb: string, name: string | null): Attributes => ({
    resourceRequest: true, verb, apiGroup: '', resource: 'nodes', subresource: 'credentials', namespace: null, name,
  });

  it('lets a node create only its own credentials', () => {
    expect(authorizeNode('n1', graph, { attributes: credentials('create', 'n1') })).toBe('allow');
    expect(authorizeNode('n1', graph, { attributes: credentials('create', 'n2') })).toBe('noOpinion');
    expect(authorizeNode('n1', graph, { attributes: credentials('get', 'n1') })).toBe('noOpinion');
    expect(authorizeNode('n1', graph, { attributes: credentials('create', null) })).toBe('noOpinion');
  });

  it('routes the subresource on nodes only', () => {
    expect(parseRoute('/api/v1/nodes/n1/credentials')).toMatchObject({ type: 'resource', name: 'n1', subresource: 'credentials' });
    expect(() => parseRoute('/api/v1/namespaces/ns/pods/p/credentials')).toThrow(/could not find/);
  });
});
