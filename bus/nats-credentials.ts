/**
 * A cluster's NATS authority on disk, in `<credentials dir>/nats/`: the operator, system account,
 * KUBUS account and account signing keys (nkey seeds, one file each) and the revoked users
 * (`revocations.json`). Created once by `kubus up` (or a test harness), read by every member (to
 * mint its own user, and later the users of node agents) and by the `kubus` CLI (to mint a
 * short-lived admin user). The directory is 0700 and every file 0600, also when it already
 * existed with looser modes; no function here logs a key.
 *
 * Decision: revocation is a claims push (`$SYS.REQ.ACCOUNT.<account>.CLAIMS.UPDATE`, answered by
 * every server of a NATS cluster at once) plus `revocations.json`, from which the next server start
 * preloads the account: a config reload in operator mode would disconnect every client instead.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, jwtAuthenticator } from 'nats';
import { createUser } from 'nkeys.js';
import { encodeUser } from 'nats-jwt';
import { KubusError, type ErrorFields } from './errors.js';
import {
  adminPermissions, agentPermissions, agentUserName, componentPermissions, componentUserName, createNatsAuthorityKeys, kubusAccountJwt, memberPermissions, memberUserName,
  mintUser, natsAuthorityPublicKeys, pair, natsServerAuthConfig, userInboxPrefix, type NatsAuthorityKeys, type NatsPermissions,
  type NatsRevocations, type NatsUser,
} from './nats-auth.js';

export const natsCredentialsLimits = {
  /** A CLI command's admin user: long enough for `kubus up` waiting a minute, short if the JWT leaks. */
  adminTtlMs: 60 * 60 * 1000,
  /** How long a revocation push waits for the server's answer. */
  claimsUpdateTimeoutMs: 5_000,
} as const;

const keyFiles = {
  operatorSeed: 'operator.nk',
  systemAccountSeed: 'system-account.nk',
  accountSeed: 'account.nk',
  accountSigningSeed: 'account-signing.nk',
} as const satisfies Record<keyof NatsAuthorityKeys, string>;
const revocationsFile = 'revocations.json';

export class NatsCredentialsMissingError extends KubusError {
  override readonly name = 'NatsCredentialsMissingError';
  readonly code = 'natsCredentialsMissing';
  constructor(readonly dir: string, readonly missing: string) {
    super(`no NATS credentials in ${dir} (${missing} missing): the bus admits only users minted from a cluster's credentials directory; ` +
      'pass --dir (or --credentials-dir) of the directory `kubus up` created');
  }
  override fields(): ErrorFields {
    return { dir: this.dir, missing: this.missing };
  }
}

export class NatsRevokeError extends KubusError {
  override readonly name = 'NatsRevokeError';
  readonly code = 'natsRevoke';
  constructor(readonly user: string, detail: string, options?: { cause: unknown }) {
    super(`revoking NATS user ${user}: ${detail}`, options);
  }
  override fields(): ErrorFields {
    return { user: this.user };
  }
}

/** Where the NATS keys of a credentials directory live. */
export function natsCredentialsDir(credentialsDir: string): string {
  return join(credentialsDir, 'nats');
}

/** The keys of `credentialsDir`, generated on first use; modes are enforced either way. */
export function ensureNatsCredentials(credentialsDir: string): NatsCredentials {
  const dir = natsCredentialsDir(credentialsDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  if (!existsSync(join(dir, keyFiles.accountSigningSeed))) {
    const keys = createNatsAuthorityKeys();
    // The signing key is written last: its presence says the set is complete.
    for (const field of ['operatorSeed', 'systemAccountSeed', 'accountSeed', 'accountSigningSeed'] as const) {
      writeSecret(join(dir, keyFiles[field]), `${keys[field]}\n`);
    }
  }
  if (!existsSync(join(dir, revocationsFile))) writeSecret(join(dir, revocationsFile), '{}\n');
  for (const name of [...Object.values(keyFiles), revocationsFile]) chmodSync(join(dir, name), 0o600);
  return loadNatsCredentials(credentialsDir);
}

/** The keys of an existing credentials directory; NatsCredentialsMissingError when absent. */
export function loadNatsCredentials(credentialsDir: string): NatsCredentials {
  const dir = natsCredentialsDir(credentialsDir);
  const read = (name: string): string => {
    const path = join(dir, name);
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      throw new NatsCredentialsMissingError(credentialsDir, path);
    }
  };
  const keys: NatsAuthorityKeys = {
    operatorSeed: read(keyFiles.operatorSeed),
    systemAccountSeed: read(keyFiles.systemAccountSeed),
    accountSeed: read(keyFiles.accountSeed),
    accountSigningSeed: read(keyFiles.accountSigningSeed),
  };
  return new NatsCredentials(dir, keys);
}

/** Written to a temporary file (0600 from its creation) and renamed: never half a key, never readable by others. */
function writeSecret(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
  chmodSync(`${path}.tmp`, 0o600);
  renameSync(`${path}.tmp`, path);
}

/** A loaded authority: mints users, writes the server configuration, revokes. Keys stay inside. */
export class NatsCredentials {
  /** @internal use ensureNatsCredentials / loadNatsCredentials */
  constructor(readonly dir: string, private readonly keys: NatsAuthorityKeys) {}

  /** Public keys, safe to log. */
  publicKeys(): ReturnType<typeof natsAuthorityPublicKeys> {
    return natsAuthorityPublicKeys(this.keys);
  }

  revocations(): NatsRevocations {
    return JSON.parse(readFileSync(join(this.dir, revocationsFile), 'utf8')) as NatsRevocations;
  }

  /** The operator-mode lines of nats.conf, with the revocations recorded so far. */
  serverConfig(): Promise<string> {
    return natsServerAuthConfig(this.keys, this.revocations());
  }

  /** A user with exactly `permissions` (the next issues mint per-node agent users with this). */
  async mintUser(name: string, options: { permissions: NatsPermissions; ttlMs: number | null; nowMs: number; restrictInbox?: boolean }): Promise<NatsUser> {
    return mintUser(this.keys, name, {
      permissions: options.permissions, ttlMs: options.ttlMs, nowMs: options.nowMs,
      inboxPrefix: options.restrictInbox === false ? null : userInboxPrefix(name),
    });
  }

  /** A store member's user: Raft as itself only, its store and API subjects (nats-auth.ts). */
  async mintMember(cluster: string, member: string, nowMs: number): Promise<NatsUser> {
    return this.mintUser(memberUserName(member), { permissions: memberPermissions(cluster, member), ttlMs: null, nowMs });
  }

  /** A control-plane component's user: API requests only. */
  async mintComponent(cluster: string, component: string, options: { ttlMs: number | null; nowMs: number }): Promise<NatsUser> {
    return this.mintUser(componentUserName(component), { permissions: componentPermissions(cluster, component), ...options });
  }

  /** A node agent's user (nats-auth.ts `agentPermissions`): expires; the agent renews it through the API. */
  async mintAgent(cluster: string, node: string, options: { ttlMs: number; nowMs: number }): Promise<NatsUser> {
    return this.mintUser(agentUserName(node), { permissions: agentPermissions(cluster, node), ...options });
  }

  /** An admin user of one cluster, for the `kubus` CLI and test harnesses. */
  async mintAdmin(cluster: string, options: { ttlMs: number | null; nowMs: number }): Promise<NatsUser> {
    return this.mintUser('admin', { permissions: adminPermissions(cluster), restrictInbox: false, ...options });
  }

  /**
   * Revokes `user` on every server reachable at `servers` at once (claims push as a system
   * account user), and records it so the next server start preloads the revocation.
   */
  async revoke(user: Pick<NatsUser, 'name' | 'publicKey'>, options: { servers: readonly string[]; nowMs: number }): Promise<void> {
    await this.revokeMany([user], options);
  }

  /**
   * Revokes several users with one account update: one file write, one account JWT, one system
   * connection and one claims push, whatever their number (a bootstrap token that joined many
   * nodes is revoked within the same second as one).
   */
  async revokeMany(users: readonly Pick<NatsUser, 'name' | 'publicKey'>[], options: { servers: readonly string[]; nowMs: number }): Promise<void> {
    if (users.length === 0) return;
    const who = users.map((u) => u.name).join(', ');
    const revokedAt = Math.floor(options.nowMs / 1000);
    const revocations: Record<string, number> = { ...this.revocations() };
    for (const user of users) revocations[user.publicKey] = revokedAt;
    writeSecret(join(this.dir, revocationsFile), `${JSON.stringify(revocations, null, 2)}\n`);
    const accountJwt = await kubusAccountJwt(this.keys, revocations);
    const system = createUser();
    const systemJwt = await encodeUser('kubus-revoker', system, pair(this.keys.systemAccountSeed), {}, { exp: revokedAt + 60 });
    let connection;
    try {
      connection = await connect({ servers: [...options.servers], name: 'kubus-revoker', authenticator: jwtAuthenticator(systemJwt, system.getSeed()), reconnect: false });
    } catch (error) {
      throw new NatsRevokeError(who, `cannot connect as the system account: ${(error as Error).message}`, { cause: error });
    }
    try {
      const subject = `$SYS.REQ.ACCOUNT.${this.publicKeys().account}.CLAIMS.UPDATE`;
      const reply = await connection.request(subject, new TextEncoder().encode(accountJwt), { timeout: natsCredentialsLimits.claimsUpdateTimeoutMs });
      const answer = JSON.parse(new TextDecoder().decode(reply.data)) as { data?: { code?: number }; error?: { description?: string } };
      if (answer.data?.code !== 200) throw new NatsRevokeError(who, `the server refused the account update: ${JSON.stringify(answer.error ?? answer)}`);
    } catch (error) {
      if (error instanceof NatsRevokeError) throw error;
      throw new NatsRevokeError(who, (error as Error).message, { cause: error });
    } finally {
      await connection.close();
    }
  }
}
