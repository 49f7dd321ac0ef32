/**
 * `POST /api/v1/nodes/<name>/credentials` (issue 11 §2): what a joined node agent needs beyond its
 * client certificate, minted fresh on every call (the agent calls again to renew, before expiry):
 * - a NATS user of its own (bus/nats-auth.ts `agentPermissions`: its node's subjects, its inbox,
 *   API requests, one answer per rpc request), with the member's NATS URLs and the inbox prefix
 *   the client must set;
 * - an API token for `system:node:<name>` (authn/node-tokens.ts), because over NATS no client
 *   certificate travels.
 * Both expire after the same TTL (`--node-credentials-ttl`, default one hour).
 *
 * Only the node itself may ask, for its own name: the answer *is* the node's identity on the bus
 * and the API, so an administrator is refused too (403) — an admin who needs a bus user mints one
 * from the credentials directory. Before answering, the API server records the issued NATS user in
 * the node's identity record (authn/node-identity.ts) with its own privileges, so that deleting
 * the Node or revoking the token that joined it can revoke the user (controllers/nodecredentials).
 */
import type { TLSSocket } from 'node:tls';
import type { NatsUser } from '../../../bus/index.js';
import { credentialRejected } from '../authn/errors.js';
import { certificateIssuedAtMs } from '../authn/node-identity-guard.js';
import { issueNodeToken, nodeTokenIssuedAtMs } from '../authn/node-tokens.js';
import {
  awaitingRejoin, newNodeIdentity, nodeIdentityNamespace, nodeIdentityOf, nodeIdentitySecret, nodeIdentitySecretName, refusedByRevocation,
  revokedIdentityMessage, withIssuedUser,
} from '../authn/node-identity.js';
import { getOrNull, secretsResource } from '../authn/stored-tokens.js';
import { nodeNameOf } from '../authz/node-authorizer.js';
import { bootstrapTokenOfNode } from '../admission/csr-join.js';
import { ApiError, apiErrors } from '../status.js';
import type { RequestContext } from './context.js';
import { readBody, sendJson } from './io.js';
import { gate, requireName } from './resource-handlers.js';

export const nodeCredentialsLimits = {
  /**
   * Default lifetime of a node's NATS user and API token: Kubernetes' default for bound tokens.
   * It bounds how long a stolen credential works after the node stopped renewing; the agent
   * renews well before it ends, so a short value costs only a request per node per renewal.
   */
  ttlMsDefault: 60 * 60 * 1000,
  /** Shorter lives than this would expire in transit under ordinary clock skew and load. */
  ttlMsMin: 2_000,
  /** A day at most: the revocation list is the only other way to end a user, and it is bounded. */
  ttlMsMax: 24 * 60 * 60 * 1000,
} as const;

/** What a member needs to issue node credentials (member-api.ts builds it). */
export interface NodeCredentialsIssuer {
  readonly cluster: string;
  /** The member's `--nats` URLs, handed to the agent as is. */
  readonly natsServers: readonly string[];
  readonly nats: { mintAgent(cluster: string, node: string, options: { ttlMs: number; nowMs: number }): Promise<NatsUser> };
  /** `pki/sa.key`: signs node API tokens; null: this member cannot issue them (503). */
  readonly tokenKeyPem: string | null;
  readonly ttlMs: number;
}

export async function handleNodeCredentials(ctx: RequestContext, issuer: NodeCredentialsIssuer | null = null): Promise<void> {
  const name = requireName(ctx.route.name);
  const node = nodeNameOf(ctx.user);
  if (node !== name) {
    throw apiErrors.forbidden(`nodes "${name}" is forbidden: User "${ctx.user.name}" cannot create resource "nodes/credentials" at the cluster scope: `
      + `only the node itself (system:node:${name}, group system:nodes) may, because the answer hands out that node's identity on the bus and the API; `
      + 'administrators are refused too (an admin bus user is minted from the credentials directory: kubus commands do it)');
  }
  await gate(ctx, 'create');
  await readBody(ctx.req, ctx.server.limits.requestBodyBytesMax);
  if (issuer === null || issuer.tokenKeyPem === null) {
    throw apiErrors.unavailable('this API server issues no node credentials (it has no cluster credentials directory with nats/ and pki/sa.key); ask another member');
  }
  const now = ctx.server.wallClock();
  const user = await issuer.nats.mintAgent(issuer.cluster, name, { ttlMs: issuer.ttlMs, nowMs: now.getTime() });
  const apiToken = issueNodeToken({ privateKeyPem: issuer.tokenKeyPem, node: name, now, ttlSeconds: Math.ceil(issuer.ttlMs / 1000) });
  await recordIssued(ctx, name, user, now);
  sendJson(ctx.res, 201, {
    apiVersion: 'kubus.io/v1', kind: 'NodeCredentials', metadata: { name, creationTimestamp: now.toISOString() },
    nats: {
      servers: [...issuer.natsServers], cluster: issuer.cluster, user: user.name, jwt: user.jwt, seed: user.seed, inboxPrefix: user.inboxPrefix,
      expiresAt: new Date(user.expiresAtMs ?? now.getTime() + issuer.ttlMs).toISOString(),
    },
    apiToken: { token: apiToken.token, expiresAt: apiToken.expiresAt.toISOString() },
  });
}

/**
 * When the credential this request presented was issued: its client certificate (HTTPS) or its
 * node API token (the NATS front forwards with the Authorization header only).
 */
function presentedIssuedAtMs(ctx: RequestContext): number | null {
  const socket = ctx.req.socket as Partial<TLSSocket>;
  const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : null;
  if (cert !== null && Object.keys(cert).length > 0 && socket.authorized === true) {
    const notBeforeMs = Date.parse(cert.valid_from);
    return certificateIssuedAtMs({ authorized: true, authorizationError: null, subject: {}, notBeforeMs: Number.isFinite(notBeforeMs) ? notBeforeMs : null });
  }
  return nodeTokenIssuedAtMs(ctx.req.headers.authorization);
}

/**
 * Adds the issued user to the node's identity record (created on the first call), read and
 * written without a cache, so that it decides for good what the cached identity guard may have
 * let through: a revoked record refuses a credential issued before its revocation (401); one
 * issued after it means the node joined again, and the record then names its new token.
 */
async function recordIssued(ctx: RequestContext, node: string, user: NatsUser, now: Date): Promise<void> {
  const secrets = secretsResource();
  const secretName = nodeIdentitySecretName(node);
  const issued = { name: user.name, publicKey: user.publicKey, issuedAtMs: now.getTime(), expiresAtMs: user.expiresAtMs ?? now.getTime() };
  const existing = await getOrNull(ctx.server.objects, secrets, nodeIdentityNamespace, secretName);
  if (existing === null) {
    const identity = newNodeIdentity(node, await bootstrapTokenOfNode(ctx.server.objects, node), issued);
    try {
      await ctx.server.objects.create(secrets, nodeIdentityNamespace, nodeIdentitySecret(identity));
      return;
    } catch (error) {
      // Two members issuing at once: the other created it; add to it below.
      if (!(error instanceof ApiError && error.httpStatus === 409)) throw error;
    }
  }
  const presented = presentedIssuedAtMs(ctx);
  await ctx.server.objects.guaranteedUpdate(secrets, nodeIdentityNamespace, secretName, async (current) => {
    const identity = nodeIdentityOf(current) ?? newNodeIdentity(node, '', issued);
    if (refusedByRevocation(identity, presented)) throw credentialRejected('revoked', revokedIdentityMessage(identity));
    // Issued after the revocation: the node joined again, with a token other than the revoked one.
    const bootstrapTokenId = awaitingRejoin(identity) ? await bootstrapTokenOfNode(ctx.server.objects, node, identity.revokedTokenId) : identity.bootstrapTokenId;
    return nodeIdentitySecret({ ...identity, bootstrapTokenId, natsUsers: withIssuedUser(identity.natsUsers, issued, now.getTime()) }, current);
  }, {});
}
