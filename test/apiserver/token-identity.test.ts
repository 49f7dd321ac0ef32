/**
 * What a stored or signed credential may claim, without a cluster: a kubus token record naming a
 * `system:` user or group and a bootstrap token with extra groups outside `system:bootstrappers:`
 * authenticate nobody (401), and cannot be created by the helpers; writing a token record needs
 * the right to impersonate whom it names (403 for a namespace editor, allowed for an impersonator);
 * a ServiceAccount token for another audience, or used before its `nbf`, is refused.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../bus/index.js';
import {
  ServiceAccountTokenAuthenticator, StoredTokenAuthenticator, guardTokenRecordWrite, issueServiceAccountToken, newBootstrapToken, newKubusToken,
  sha256Hex, tokenRecord, type AuthenticationRequest,
} from '../../actors/apiserver/authn/index.js';
import type { Authorizer } from '../../actors/apiserver/http/admission.js';
import { ApiError, apiErrors } from '../../actors/apiserver/status.js';
import type { KubeObject } from '../../actors/apiserver/types.js';

const bearer = (token: string): AuthenticationRequest => ({ authorization: `Bearer ${token}`, clientCertificate: null });
const b64 = (text: string): string => Buffer.from(text).toString('base64');
const now = new Date('2026-01-01T00:00:00Z');

/** A kubus token record written by hand, as a namespace editor could: the helpers refuse to make these. */
function handMadeKubusToken(user: string, groups: string): { token: string; secret: KubeObject } {
  const id = 'abcdefghij';
  const token = `kubus-${id}.${'x'.repeat(43)}`;
  return {
    token,
    secret: {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: `kubus-token-${id}`, namespace: 'kube-system' }, type: 'kubus.io/token',
      data: { 'token-id': b64(id), 'token-sha256': b64(sha256Hex(token)), user: b64(user), uid: b64(user), groups: b64(groups) },
    },
  };
}

function handMadeBootstrapToken(extraGroups: string): { token: string; secret: KubeObject } {
  return {
    token: 'abcdef.0123456789abcdef',
    secret: {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bootstrap-token-abcdef', namespace: 'kube-system' }, type: 'bootstrap.kubernetes.io/token',
      data: { 'token-id': b64('abcdef'), 'token-secret': b64('0123456789abcdef'), 'usage-bootstrap-authentication': b64('true'), 'auth-extra-groups': b64(extraGroups) },
    },
  };
}

function storeOf(objects: readonly KubeObject[]) {
  return {
    get: async (_info: unknown, _ns: string | null, name: string) => {
      const found = objects.find((o) => o.metadata.name === name);
      if (found === undefined) throw apiErrors.notFound('secrets', '', name);
      return found;
    },
  };
}

async function statusOf(promise: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof ApiError) return error.httpStatus;
    throw error;
  }
}

describe('stored token records', () => {
  it('refuse reserved identities and bootstrap groups without the system:bootstrappers: prefix (401)', async () => {
    const cases = [
      handMadeKubusToken('mallory', 'system:masters'),
      handMadeKubusToken('mallory', 'dev,system:nodes'),
      handMadeKubusToken('system:kube-controller-manager', ''),
      handMadeKubusToken('system:serviceaccount:kube-system:admin', ''),
      handMadeBootstrapToken('system:masters'),
      handMadeBootstrapToken('system:bootstrappers:ok,ops'),
    ];
    for (const { token, secret } of cases) {
      const authenticator = new StoredTokenAuthenticator({ objects: storeOf([secret]) as never, clock: new SimulatedClock(), wallClock: () => now });
      await expect(authenticator.authenticate(bearer(token))).rejects.toThrow(/is refused/);
      expect(tokenRecord(secret)?.refusal).not.toBeNull();
    }
    const fine = [handMadeKubusToken('alice', 'dev,ops'), handMadeBootstrapToken('system:bootstrappers:kubeadm:default-node-token')];
    for (const { token, secret } of fine) {
      const authenticator = new StoredTokenAuthenticator({ objects: storeOf([secret]) as never, clock: new SimulatedClock(), wallClock: () => now });
      expect(await authenticator.authenticate(bearer(token))).not.toBeNull();
    }
  });

  it('cannot be created with reserved identities by the helpers', () => {
    expect(() => newKubusToken({ name: 'a', uid: 'a', groups: ['system:masters'] }, null)).toThrow(/reserved/);
    expect(() => newKubusToken({ name: 'system:admin', uid: 'a', groups: [] }, null)).toThrow(/reserved/);
    expect(() => newBootstrapToken(null, ['system:masters'])).toThrow(/system:bootstrappers:/);
    expect(newBootstrapToken(null, ['system:bootstrappers:workers']).token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  });

  it('may be written only by who may impersonate whom they name (403 otherwise)', async () => {
    const info = { group: '', resource: 'secrets' };
    // The editor may impersonate nobody; the admin anybody.
    const authorizer: Authorizer = {
      authorize: async (request) => {
        if (request.verb === 'impersonate' && request.user.name !== 'admin') throw apiErrors.forbidden(`cannot impersonate ${request.name ?? ''}`);
      },
    };
    const editor = { name: 'editor', uid: 'e', groups: ['system:authenticated'] };
    const admin = { name: 'admin', uid: 'a', groups: ['system:masters'] };
    const record = handMadeKubusToken('ops-lead', 'ops').secret;
    const bootstrap = handMadeBootstrapToken('system:bootstrappers:x').secret;
    const opaque: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'plain', namespace: 'kube-system' }, type: 'Opaque', data: {} };
    expect(await statusOf(guardTokenRecordWrite(authorizer, { info, namespace: 'kube-system', user: editor, object: record }))).toBe(403);
    expect(await statusOf(guardTokenRecordWrite(authorizer, { info, namespace: 'kube-system', user: editor, object: bootstrap }))).toBe(403);
    expect(await statusOf(guardTokenRecordWrite(authorizer, { info, namespace: 'kube-system', user: admin, object: record }))).toBe('ok');
    expect(await statusOf(guardTokenRecordWrite(authorizer, { info, namespace: 'kube-system', user: editor, object: opaque }))).toBe('ok');
    expect(await statusOf(guardTokenRecordWrite(authorizer, { info, namespace: 'team', user: editor, object: record }))).toBe('ok');
    expect(await statusOf(guardTokenRecordWrite(authorizer, { info, namespace: 'kube-system', user: editor, object: null }))).toBe('ok');
  });
});

describe('ServiceAccount tokens', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const account: KubeObject = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace: 'default', uid: 'u-1' } };
  const authenticator = new ServiceAccountTokenAuthenticator({
    publicKeyPem, objects: storeOf([account]) as never, clock: new SimulatedClock(), wallClock: () => now,
  });
  const issue = (options: { at?: Date; audiences?: string[] }) =>
    issueServiceAccountToken({ privateKeyPem, serviceAccount: account, now: options.at ?? now, expirationSeconds: 3_600, ...(options.audiences !== undefined ? { audiences: options.audiences } : {}) }).token;

  it('authenticate for the API audience from nbf on (with a minute of leeway)', async () => {
    expect(await authenticator.authenticate(bearer(issue({})))).toMatchObject({ name: 'system:serviceaccount:default:robot' });
    expect(await authenticator.authenticate(bearer(issue({ audiences: ['vault', 'https://kubernetes.default.svc.cluster.local'] })))).not.toBeNull();
    expect(await authenticator.authenticate(bearer(issue({ at: new Date(now.getTime() + 30_000) })))).not.toBeNull();
  });

  it('are refused for another audience or before nbf (401)', async () => {
    await expect(authenticator.authenticate(bearer(issue({ audiences: ['vault'] })))).rejects.toThrow(/not meant for this API/);
    await expect(authenticator.authenticate(bearer(issue({ audiences: [] })))).rejects.toThrow(/not meant for this API/);
    await expect(authenticator.authenticate(bearer(issue({ at: new Date(now.getTime() + 10 * 60_000) })))).rejects.toThrow(/not valid before/);
  });
});
