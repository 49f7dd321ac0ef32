/**
 * Who may use the bus, and for what: NATS in operator/JWT mode. An operator key signs two
 * accounts (the system account, which the server needs for `$SYS` claim updates, and KUBUS, where
 * every kubus connection lives); the KUBUS account names a signing key; whoever holds that key
 * mints user JWTs, each with the subjects its holder may publish and subscribe. The server only
 * knows the operator and the two account JWTs (`resolver: MEMORY`), so a user minted now connects
 * at once, with no reload, and a user is revoked by pushing a new account JWT (see
 * nats-credentials.ts).
 *
 * Why the dependencies: `nats-jwt` encodes and signs the JWTs and `nkeys.js` makes the ed25519
 * keys (NATS's nkeys). We take nats-jwt 0.0.9 + nkeys.js 1.1.0 rather than @nats-io/jwt +
 * @nats-io/nkeys 2.0 (same API) because the `nats` 2.29 client already depends on nkeys.js 1.1.0:
 * one copy of the key code signs the JWTs and answers the server's nonce. Only this file and
 * nats-credentials.ts import them.
 *
 * Decision: permissions are built here from the one subject table (subjects.ts), per role:
 * - a member publishes Raft traffic only as itself (`raft.<id>.to.*`, `.snap`) and receives only
 *   its own (`raft.*.to.<id>`); it serves `store.<id>`, the `api` queue group and its own
 *   `api.stream.<id>`, calls any member's store, and answers on any `_INBOX.` (replies and store
 *   watch streams) and client inbox (API watch frames);
 * - a control-plane component only asks the API (`api`, `api.stream.*`) and receives on its own
 *   inboxes; it never sees `store.>` nor `raft.>`;
 * - the admin (the `kubus` CLI on a machine holding the credentials directory, which can mint
 *   anything anyway) may use every subject of its cluster.
 * A user whose inbox is restricted connects with `inboxPrefix` (NatsUser.inboxPrefix): nats.js's
 * request inbox is then `_INBOX.<user>.…`, which its permission allows.
 *
 * The zero-limits trap: an account JWT without explicit `limits` gets zero limits and its
 * connections time out (the reason only in the server log); every account here states its limits.
 */
import { decode, encodeAccount, encodeOperator, encodeUser } from 'nats-jwt';
import { createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { createAccount, createOperator, createUser, fromSeed, type KeyPair } from 'nkeys.js';
import { base32 } from 'nkeys.js/lib/base32.js';
import { KubusError, type ErrorFields } from './errors.js';
import { checkToken, subjects } from './subjects.js';

export const natsAuthLimits = {
  /** Longest lifetime of a minted user; longer-lived identities are re-minted by their holder. */
  userTtlMsMax: 366 * 24 * 60 * 60 * 1000,
  /** Revocations kept in the account JWT: every entry travels in each account update. */
  revocationsMax: 10_000,
} as const;

/** No limit on anything the account may hold (see "the zero-limits trap" above). */
const unlimitedAccount = { conn: -1, subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, leaf: -1 } as const;

export const kubusAccountName = 'KUBUS';
const systemAccountName = 'SYS';
const operatorName = 'kubus';

export class InvalidNatsUserError extends KubusError {
  override readonly name = 'InvalidNatsUserError';
  readonly code = 'invalidNatsUser';
  constructor(readonly user: string, detail: string) {
    super(`cannot mint NATS user ${JSON.stringify(user)}: ${detail}`);
  }
  override fields(): ErrorFields {
    return { user: this.user };
  }
}

/** What one user may do: NATS subject patterns it may publish to and subscribe to. */
export interface NatsPermissions {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
  /**
   * NATS "allow responses": the user may publish to the reply subject of a request it received,
   * at most `max` messages within `ttlMs` of receiving it, without a publish permission on
   * `_INBOX.>` (which would let it write into anybody's inbox). Agents answer `node.<N>.rpc` this way.
   */
  readonly responses?: { readonly max: number; readonly ttlMs: number };
}

/** A minted user: what a client needs to connect. The seed is a secret: never log it. */
export interface NatsUser {
  readonly name: string;
  readonly publicKey: string;
  readonly jwt: string;
  readonly seed: string;
  /** The request inbox prefix its permissions allow; null: any `_INBOX.` (the admin). */
  readonly inboxPrefix: string | null;
  /** When the JWT expires (ms since the epoch); null: never. */
  readonly expiresAtMs: number | null;
}

/** The secret keys of a cluster's NATS authority, as nkey seed text ("SO…", "SA…"). */
export interface NatsAuthorityKeys {
  readonly operatorSeed: string;
  readonly systemAccountSeed: string;
  readonly accountSeed: string;
  readonly accountSigningSeed: string;
}

/** Fresh random keys for a new cluster. */
export function createNatsAuthorityKeys(): NatsAuthorityKeys {
  const text = (pair: KeyPair) => new TextDecoder().decode(pair.getSeed());
  return {
    operatorSeed: text(createOperator()),
    systemAccountSeed: text(createAccount()),
    accountSeed: text(createAccount()),
    accountSigningSeed: text(createAccount()),
  };
}

/** Public keys only, for logs and the server configuration. */
export function natsAuthorityPublicKeys(keys: NatsAuthorityKeys): { operator: string; systemAccount: string; account: string; accountSigning: string } {
  const pub = (seed: string) => pair(seed).getPublicKey();
  return { operator: pub(keys.operatorSeed), systemAccount: pub(keys.systemAccountSeed), account: pub(keys.accountSeed), accountSigning: pub(keys.accountSigningSeed) };
}

/**
 * A key pair whose signatures come from node:crypto's native Ed25519 instead of nkeys.js's pure-JS
 * tweetnacl: one signature there took ~100 ms on a loaded 2-core machine, and a revocation signs
 * twice, which broke the 1 s revocation bound; natively it is well under a millisecond. The
 * signatures are identical (Ed25519 is deterministic); nkeys.js still parses and encodes keys.
 */
export function pair(seed: string): KeyPair {
  const keyPair = fromSeed(new TextEncoder().encode(seed));
  const key = nativeKeys.get(seed) ?? nativePrivateKey(seed);
  return Object.assign(Object.create(keyPair) as KeyPair, {
    sign: (input: Uint8Array): Uint8Array => new Uint8Array(cryptoSign(null, input, key)),
  });
}

/** Native keys by seed: a member signs with the same few keys all its life (bounded by the seeds it holds, four). */
const nativeKeys = new Map<string, KeyObject>();
// PKCS#8 DER framing of a raw 32-byte Ed25519 private key (RFC 8410).
const ed25519Pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');

function nativePrivateKey(seed: string): KeyObject {
  // An nkey seed is base32 of: two prefix bytes, the 32-byte Ed25519 seed, a CRC-16 (fromSeed checked it above).
  const raw = base32.decode(new TextEncoder().encode(seed)).subarray(2, 34);
  const key = createPrivateKey({ key: Buffer.concat([ed25519Pkcs8Prefix, raw]), format: 'der', type: 'pkcs8' });
  if (nativeKeys.size < 16) nativeKeys.set(seed, key);
  return key;
}

/** Users revoked, by public key: seconds since the epoch (JWTs issued at or before it are refused). */
export type NatsRevocations = Readonly<Record<string, number>>;

/** The KUBUS account JWT, signed by the operator, with its signing key and revocations. */
export async function kubusAccountJwt(keys: NatsAuthorityKeys, revocations: NatsRevocations): Promise<string> {
  if (Object.keys(revocations).length > natsAuthLimits.revocationsMax) {
    throw new RangeError(`more than ${natsAuthLimits.revocationsMax} revoked NATS users: expire users instead of revoking them`);
  }
  const { accountSigning } = natsAuthorityPublicKeys(keys);
  return encodeAccount(kubusAccountName, pair(keys.accountSeed), {
    limits: { ...unlimitedAccount }, signing_keys: [accountSigning], revocations: { ...revocations },
  }, { signer: pair(keys.operatorSeed) });
}

/**
 * The authentication part of a nats-server configuration: operator, system account and both
 * account JWTs preloaded in a memory resolver. Nothing in it is secret (JWTs are signed, not
 * encrypted, and hold public keys only).
 */
export async function natsServerAuthConfig(keys: NatsAuthorityKeys, revocations: NatsRevocations): Promise<string> {
  const pub = natsAuthorityPublicKeys(keys);
  const operatorJwt = await encodeOperator(operatorName, pair(keys.operatorSeed), { system_account: pub.systemAccount });
  const systemJwt = await encodeAccount(systemAccountName, pair(keys.systemAccountSeed), { limits: { ...unlimitedAccount } }, { signer: pair(keys.operatorSeed) });
  const accountJwt = await kubusAccountJwt(keys, revocations);
  return [
    `operator: ${operatorJwt}`,
    `system_account: ${pub.systemAccount}`,
    'resolver: MEMORY',
    'resolver_preload: {',
    `  ${pub.systemAccount}: ${systemJwt}`,
    `  ${pub.account}: ${accountJwt}`,
    '}',
    '',
  ].join('\n');
}

/**
 * Mints a KUBUS user: a fresh key pair and a JWT signed with the account signing key. `ttlMs`
 * null: the JWT never expires (members, for as long as the cluster keeps its keys); otherwise
 * the server disconnects the user when it expires. `nowMs` is passed in (no wall clock here).
 */
export async function mintUser(
  keys: Pick<NatsAuthorityKeys, 'accountSeed' | 'accountSigningSeed'>,
  name: string,
  options: { permissions: NatsPermissions; inboxPrefix: string | null; ttlMs: number | null; nowMs: number },
): Promise<NatsUser> {
  checkToken(name, 'NATS user name');
  if (options.ttlMs !== null && (!Number.isInteger(options.ttlMs) || options.ttlMs <= 0 || options.ttlMs > natsAuthLimits.userTtlMsMax)) {
    throw new InvalidNatsUserError(name, `ttlMs must be a whole number in (0, ${natsAuthLimits.userTtlMsMax}], got ${options.ttlMs}`);
  }
  if (options.permissions.publish.length === 0 && options.permissions.subscribe.length === 0) {
    // An empty allow list means "everything" to NATS: a user with no rights must not be one with all.
    throw new InvalidNatsUserError(name, 'no subject to publish or subscribe: NATS would read empty lists as "allow everything"');
  }
  const user = createUser();
  const expiresAtMs = options.ttlMs === null ? null : options.nowMs + options.ttlMs;
  const accountPublicKey = pair(keys.accountSeed).getPublicKey();
  const jwt = await encodeUser(name, user, accountPublicKey, {
    pub: { allow: [...options.permissions.publish], deny: [] },
    sub: { allow: [...options.permissions.subscribe], deny: [] },
    // The JWT's ttl is a Go time.Duration: nanoseconds.
    ...(options.permissions.responses !== undefined ? { resp: { max: options.permissions.responses.max, ttl: options.permissions.responses.ttlMs * 1_000_000 } } : {}),
  }, { signer: pair(keys.accountSigningSeed), ...(expiresAtMs !== null ? { exp: Math.floor(expiresAtMs / 1000) } : {}) });
  return { name, publicKey: user.getPublicKey(), jwt, seed: new TextDecoder().decode(user.getSeed()), inboxPrefix: options.inboxPrefix, expiresAtMs };
}

/** What a user JWT says (not verified: for operators and tests reading their own users). */
export interface NatsUserClaims {
  readonly name: string;
  readonly publicKey: string;
  /** The key that signed it (the account signing key for kubus users). */
  readonly issuer: string;
  readonly account: string | null;
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
  /** Seconds since the epoch; null: never expires. */
  readonly expiresAtSeconds: number | null;
}

export function readUserClaims(jwt: string): NatsUserClaims {
  const claims = decode<{ pub: { allow: string[] }; sub: { allow: string[] }; issuer_account: string }>(jwt);
  return {
    name: claims.name, publicKey: claims.sub, issuer: claims.iss, account: claims.nats.issuer_account ?? null,
    publish: claims.nats.pub?.allow ?? [], subscribe: claims.nats.sub?.allow ?? [], expiresAtSeconds: claims.exp ?? null,
  };
}

/** The request inbox prefix of a restricted user, and its subscribe pattern. */
export function userInboxPrefix(name: string): string {
  return `_INBOX.${checkToken(name, 'NATS user name')}`;
}

/** The NATS user name of a store member. */
export function memberUserName(member: string): string {
  return `member-${checkToken(member, 'member id')}`;
}

/** The NATS user name of a control-plane component (scheduler, controller manager, ...). */
export function componentUserName(component: string): string {
  return `component-${checkToken(component, 'component name')}`;
}

/** Store watches (store/store-watch.ts) stream to `_INBOX.kubuswatch.<random>`; members open them. */
const storeWatchInboxes = '_INBOX.kubuswatch.>';

export function memberPermissions(cluster: string, member: string): NatsPermissions {
  const names = subjects(cluster);
  const prefix = names.all.slice(0, -2);
  return {
    publish: [
      `${prefix}.raft.${checkToken(member, 'member id')}.to.*`, `${prefix}.raft.${member}.to.*.snap`,
      `${prefix}.store.*`, names.api(), `${prefix}.api.stream.*`, `${prefix}.inbox.>`, '_INBOX.>',
      // The API server asks agents for logs (and, later, exec and port-forward) on their rpc subject.
      `${prefix}.node.*.rpc`,
      // Service traffic to pods on other hosts (the tunnel).
      ...nodeTunnelPublish(prefix),
      // Exec, attach and port-forward streams to agents: opens and frames (agents accept these only from members).
      `${prefix}.node.*.rpc.stream`, `${prefix}.node.*.rpc.stream.*`,
    ],
    subscribe: [
      names.raftInbound(member), names.raftSnapshotInbound(member),
      names.store(member), names.api(), names.apiStream(member),
      `${names.memberStream(member)}.*`, names.nodeMetricsAll,
      `${userInboxPrefix(memberUserName(member))}.>`, storeWatchInboxes,
    ],
  };
}

export function componentPermissions(cluster: string, component: string): NatsPermissions {
  const names = subjects(cluster);
  const prefix = names.all.slice(0, -2);
  // The controller manager hosts the assignment relay, which fans pods out to every node's subject.
  const relay = component === 'kube-controller-manager' ? [`${prefix}.node.*.assign`] : [];
  return {
    publish: [names.api(), `${prefix}.api.stream.*`, ...relay],
    subscribe: [`${userInboxPrefix(componentUserName(component))}.>`, names.inboxAll(componentUserName(component))],
  };
}

export function adminPermissions(cluster: string): NatsPermissions {
  const names = subjects(cluster);
  return { publish: [names.all, '_INBOX.>'], subscribe: [names.all, '_INBOX.>'] };
}

/** The NATS user name of a node agent; its inbox prefix is `_INBOX.node-<node>` (no clash with members' or components'). */
export function agentUserName(node: string): string {
  return `node-${checkToken(node, 'node name')}`;
}

/**
 * The NATS tunnel (bus/stream, nodeagent/tunnel): a stream is opened with a request to
 * `node.<N>.tunnel` and its frames go to `node.<N>.tunnel.<id>` (or `.dialed.<id>`, the opener's
 * end). Agents and members may publish there, to any node; components and others may not, so they
 * cannot open a tunnel. Each agent still receives only on its own `node.<N>.>`.
 */
function nodeTunnelPublish(prefix: string): string[] {
  return [`${prefix}.node.*.tunnel`, `${prefix}.node.*.tunnel.>`];
}

/** How long an agent may take to answer one rpc request (a log long-poll waits up to 10 s of it). */
const agentResponseTtlMs = 60_000;

/**
 * A node agent: subscribes only to its own node's subjects (assignments, rpc, its tunnel) and its
 * own request inbox; publishes only API requests (and watch renewals), tunnel opens and frames to
 * any node, and one answer per request it received (rpc, tunnel opens).
 */
export function agentPermissions(cluster: string, node: string): NatsPermissions {
  const names = subjects(cluster);
  const prefix = names.all.slice(0, -2);
  return {
    publish: [
      names.api(), `${prefix}.api.stream.*`, ...nodeTunnelPublish(prefix),
      // Frames of the exec/attach/port-forward streams members opened to it (the ids are unguessable).
      `${prefix}.member.*.stream.*`,
      // Only its own metrics report: an agent cannot speak for another node's usage.
      names.nodeMetrics(node),
    ],
    // Its own watch inbox too (the service proxy's and DNS server's informers watch over NATS).
    subscribe: [names.nodeAll(node), `${userInboxPrefix(agentUserName(node))}.>`, names.inboxAll(agentUserName(node))],
    responses: { max: 1, ttlMs: agentResponseTtlMs },
  };
}
