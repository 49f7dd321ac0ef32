/**
 * What a minted NATS user may do, read back from its JWT: the exact subjects of each role (a
 * member's Raft only as itself, a component's API only), the signing key as issuer with the
 * account named, expiry, and the refusals (an empty permission list would mean "everything" to
 * NATS; names that are not subject tokens). The server's enforcement of these claims is checked
 * end to end in test/security/bus.integration.test.ts.
 */
import { createAccount, fromSeed } from 'nkeys.js';
import { agentPermissions, pair } from '../../bus/nats-auth.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  InvalidNatsUserError, InvalidSubjectTokenError, NatsCredentialsMissingError, componentPermissions, ensureNatsCredentials, loadNatsCredentials,
  memberPermissions, readUserClaims,
} from '../../bus/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kubus-nats-auth-'));
const credentials = ensureNatsCredentials(dir);
const now = Date.UTC(2026, 0, 1);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('NATS users', () => {
  it("a member publishes Raft only as itself and receives only its own", () => {
    expect(memberPermissions('prod', 's2')).toEqual({
      publish: [
        'kubus.prod.raft.s2.to.*', 'kubus.prod.raft.s2.to.*.snap', 'kubus.prod.store.*', 'kubus.prod.api', 'kubus.prod.api.stream.*',
        'kubus.prod.inbox.>', '_INBOX.>', 'kubus.prod.node.*.rpc', 'kubus.prod.node.*.tunnel', 'kubus.prod.node.*.tunnel.>',
        'kubus.prod.node.*.rpc.stream', 'kubus.prod.node.*.rpc.stream.*',
      ],
      subscribe: [
        'kubus.prod.raft.*.to.s2', 'kubus.prod.raft.*.to.s2.snap', 'kubus.prod.store.s2', 'kubus.prod.api', 'kubus.prod.api.stream.s2',
        'kubus.prod.member.s2.stream.*', 'kubus.prod.metrics.node.*', '_INBOX.member-s2.>', '_INBOX.kubuswatch.>',
      ],
    });
  });

  it('a component only asks the API and receives on its own inboxes', () => {
    expect(componentPermissions('prod', 'scheduler')).toEqual({
      publish: ['kubus.prod.api', 'kubus.prod.api.stream.*'],
      subscribe: ['_INBOX.component-scheduler.>', 'kubus.prod.inbox.component-scheduler.>'],
    });
  });

  it('mints a JWT signed by the account signing key, naming the account, with its permissions and expiry', async () => {
    const member = await credentials.mintMember('prod', 's1', now);
    const keys = credentials.publicKeys();
    expect(readUserClaims(member.jwt)).toEqual({
      name: 'member-s1', publicKey: member.publicKey, issuer: keys.accountSigning, account: keys.account,
      publish: memberPermissions('prod', 's1').publish, subscribe: memberPermissions('prod', 's1').subscribe, expiresAtSeconds: null,
    });
    expect([member.inboxPrefix, member.expiresAtMs]).toEqual(['_INBOX.member-s1', null]);
    const component = await credentials.mintComponent('prod', 'scheduler', { ttlMs: 60_000, nowMs: now });
    expect([readUserClaims(component.jwt).expiresAtSeconds, component.expiresAtMs]).toEqual([Math.floor((now + 60_000) / 1000), now + 60_000]);
    expect(member.seed.startsWith('SU')).toBe(true);
    expect(member.jwt).not.toContain(member.seed);
  });

  it('refuses a user with no permission, a bad lifetime or a name that is not a subject token', async () => {
    await expect(credentials.mintUser('nobody', { permissions: { publish: [], subscribe: [] }, ttlMs: null, nowMs: now })).rejects.toBeInstanceOf(InvalidNatsUserError);
    await expect(credentials.mintUser('short', { permissions: componentPermissions('prod', 'x'), ttlMs: 0, nowMs: now })).rejects.toBeInstanceOf(InvalidNatsUserError);
    await expect(credentials.mintUser('a.b', { permissions: componentPermissions('prod', 'x'), ttlMs: null, nowMs: now })).rejects.toBeInstanceOf(InvalidSubjectTokenError);
    await expect(credentials.mintMember('prod', '*', now)).rejects.toBeInstanceOf(InvalidSubjectTokenError);
  });

  it('keeps the keys across loads and names what is missing', async () => {
    expect(loadNatsCredentials(dir).publicKeys()).toEqual(credentials.publicKeys());
    expect(ensureNatsCredentials(dir).publicKeys()).toEqual(credentials.publicKeys());
    expect(() => loadNatsCredentials(join(dir, 'elsewhere'))).toThrow(NatsCredentialsMissingError);
    const config = await credentials.serverConfig();
    expect(config).toMatch(/^operator: \S+\nsystem_account: A\w+\nresolver: MEMORY\nresolver_preload: \{\n  A\w+: \S+\n  A\w+: \S+\n\}\n$/);
    // Nothing secret in it: no seed of the authority appears.
    for (const file of ['operator.nk', 'system-account.nk', 'account.nk', 'account-signing.nk']) {
      const seed = readFileSync(join(dir, 'nats', file), 'utf8').trim();
      expect(seed).toMatch(/^S[OA][A-Z2-7]{56}$/);
      expect(config).not.toContain(seed);
      expect(config).not.toContain(seed.slice(2, 20));
    }
  });
});

describe('agent and relay permissions', () => {
  it('an agent subscribes only to its node and its inbox, publishes only API requests and tunnel traffic, answers once per request', () => {
    expect(agentPermissions('prod', 'n1')).toEqual({
      publish: [
        'kubus.prod.api', 'kubus.prod.api.stream.*', 'kubus.prod.node.*.tunnel', 'kubus.prod.node.*.tunnel.>',
        // Frames of the exec/attach/port-forward streams members opened, and only its own metrics report.
        'kubus.prod.member.*.stream.*', 'kubus.prod.metrics.node.n1',
      ],
      subscribe: ['kubus.prod.node.n1.>', '_INBOX.node-n1.>', 'kubus.prod.inbox.node-n1.>'],
      responses: { max: 1, ttlMs: 60_000 },
    });
  });

  it('agents and members may open tunnels to any node; components may not', () => {
    for (const publish of [agentPermissions('prod', 'n1').publish, memberPermissions('prod', 's1').publish]) {
      expect(publish).toEqual(expect.arrayContaining(['kubus.prod.node.*.tunnel', 'kubus.prod.node.*.tunnel.>']));
    }
    for (const component of ['kube-controller-manager', 'kube-scheduler', 'cloud-controller-manager']) {
      expect(componentPermissions('prod', component).publish.some((subject) => subject.includes('tunnel'))).toBe(false);
    }
  });

  it('only the controller manager (the assignment relay) may publish assignments', () => {
    expect(componentPermissions('prod', 'kube-controller-manager').publish).toContain('kubus.prod.node.*.assign');
    expect(componentPermissions('prod', 'kube-scheduler').publish).not.toContain('kubus.prod.node.*.assign');
  });
});

describe('native Ed25519 signing', () => {
  it('signs exactly as nkeys.js does, with the same public key', () => {
    const seed = new TextDecoder().decode(createAccount().getSeed());
    const reference = fromSeed(new TextEncoder().encode(seed));
    const native = pair(seed);
    const message = new TextEncoder().encode('kubus claims');
    expect(native.getPublicKey()).toBe(reference.getPublicKey());
    expect(Buffer.from(native.sign(message)).equals(Buffer.from(reference.sign(message)))).toBe(true);
    expect(reference.verify(message, native.sign(message))).toBe(true);
  });
});
