/**
 * The node credentials revoker (issue 11 §1): runs in the controller manager, active only in the
 * Lease holder. It watches Nodes and the Secrets of kube-system (bootstrap tokens and node
 * identity records, authn/node-identity.ts) and revokes on the bus, with a `$SYS` claims push
 * (bus/nats-credentials.ts `revoke`, which every NATS server applies at once):
 * - the NATS users of a deleted Node. Kubernetes' semantics hold after that: the agent's client
 *   certificate is still valid, so it may ask for new credentials and register its Node again,
 *   as a kubelet re-creates a deleted Node;
 * - the NATS users of every node a revoked or deleted bootstrap token joined, and that node's
 *   identity (`revokedAt`), after which its certificate, API token and credentials requests are
 *   refused (authn/node-identity-guard.ts) until it joins again with a new token.
 * Keys: `node/<name>` and `token/<id>`. revocation-plan.ts decides.
 *
 * Decision: the revoker holds the account keys (the controller manager's `credentialsDir`), not
 * the API server: revocation follows from stored state (a deleted Node, an annotated token), so a
 * leader-elected loop that reconciles it survives a member restart between the write and the push.
 */
import { loadNatsCredentials } from '../../../bus/index.js';
import {
  nodeIdentityNamespace, nodeIdentityOf, nodeIdentitySecret, type NodeIdentity,
} from '../../apiserver/authn/node-identity.js';
import { bootstrapTokenType, tokenNamespace } from '../../apiserver/authn/token-secrets.js';
import { objectKey, type KubeObject } from '../../objects/index.js';
import { isNotFound, refs, type ControllerContext, type ControllerSpec, type WorkQueue } from '../runtime/index.js';
import { nodeCredentialsRevokerLimits } from './limits.js';
import { liveUsers, nodeRevocation, tokenState } from './revocation-plan.js';

const nodeKey = (name: string): string => `node/${name}`;
const tokenKey = (id: string): string => `token/${id}`;
const tokenSecretKey = (id: string): string => `${tokenNamespace}/bootstrap-token-${id}`;

export interface NodeCredentialsRevokerDependencies {
  readonly wallClockMs?: () => number;
}

/** What the revoker needs from the controller manager's flags; a missing one stops it, naming it. */
function busAuthority(ctx: ControllerContext): { credentialsDir: string; servers: string[] } {
  const credentialsDir = ctx.options['credentialsDir'];
  const servers = ctx.options['natsServers'];
  if (typeof credentialsDir !== 'string' || credentialsDir === '' || typeof servers !== 'string' || servers === '') {
    throw new Error('the nodecredentials controller needs the controller manager\'s credentialsDir and natsServers (the NATS account keys and servers to revoke users on)');
  }
  return { credentialsDir, servers: servers.split(',').map((s) => s.trim()).filter((s) => s !== '') };
}

function identities(ctx: ControllerContext): NodeIdentity[] {
  const secrets = ctx.informers.informer(refs.secrets).byIndex('namespace', nodeIdentityNamespace);
  return secrets.map((secret) => nodeIdentityOf(secret)).filter((identity): identity is NodeIdentity => identity !== null);
}

export function createNodeCredentialsController(deps: NodeCredentialsRevokerDependencies = {}): ControllerSpec {
  const wallClockMs = deps.wallClockMs ?? Date.now;
  // Per activation: the Node deletions seen and not yet acted on.
  const deletedNodes = new WeakMap<object, Set<string>>();
  const deletedOf = (ctx: ControllerContext): Set<string> => {
    let set = deletedNodes.get(ctx.informers);
    if (set === undefined) {
      set = new Set();
      deletedNodes.set(ctx.informers, set);
    }
    return set;
  };

  async function revokeUsers(ctx: ControllerContext, users: readonly { name: string; publicKey: string }[]): Promise<void> {
    const { credentialsDir, servers } = busAuthority(ctx);
    const authority = loadNatsCredentials(credentialsDir);
    // One claims push for all of them: each push re-signs the account, so one per user would add up.
    await authority.revokeMany(users, { servers, nowMs: wallClockMs() });
  }

  /** Writes the record as `change` makes it from the stored one; a record gone meanwhile needs nothing. */
  async function updateIdentity(ctx: ControllerContext, node: string, change: (identity: NodeIdentity) => NodeIdentity): Promise<void> {
    const name = `kubus-node-${node}`;
    const current = await ctx.api.get<KubeObject>(refs.secrets, nodeIdentityNamespace, name).catch((error: unknown) => (isNotFound(error) ? null : Promise.reject(error)));
    const identity = current === null ? null : nodeIdentityOf(current);
    if (current === null || identity === null) return;
    await ctx.api.update(refs.secrets, nodeIdentityNamespace, name, nodeIdentitySecret(change(identity), current));
  }

  async function reconcileNode(ctx: ControllerContext, node: string): Promise<{ requeueAfterMs: number } | void> {
    const identity = identities(ctx).find((candidate) => candidate.node === node);
    const deleted = deletedOf(ctx);
    if (identity === undefined) return void deleted.delete(node);
    const nowMs = wallClockMs();
    const plan = nodeRevocation({
      identity, nodeExists: ctx.informers.informer(refs.nodes).get(node) !== undefined, deletionSeen: deleted.has(node),
      nowMs, registrationGraceMs: nodeCredentialsRevokerLimits.registrationGraceMs,
    });
    if (plan.action === 'none') return void deleted.delete(node);
    if (plan.action === 'wait') return { requeueAfterMs: plan.afterMs };
    await revokeUsers(ctx, plan.users);
    const revoked = new Set(plan.users.map((user) => user.publicKey));
    await updateIdentity(ctx, node, (stored) => ({ ...stored, natsUsers: stored.natsUsers.filter((user) => !revoked.has(user.publicKey)) }));
    deleted.delete(node);
    ctx.logger.info('revoked the NATS users of a node without a Node object', { node, users: plan.users.map((user) => user.publicKey) });
  }

  async function reconcileToken(ctx: ControllerContext, id: string): Promise<void> {
    const now = new Date(wallClockMs());
    const state = tokenState(id, ctx.informers.informer(refs.secrets).get(tokenSecretKey(id)) ?? null, now);
    if (!state.revoked) return;
    for (const identity of identities(ctx)) {
      if (identity.bootstrapTokenId !== id || (identity.revokedTokenId === id && liveUsers(identity, now.getTime()).length === 0)) continue;
      // The identity first: once the agent's bus closes it asks for new credentials, which must find it revoked.
      // A node that joined again meanwhile (another token in its record) is not this token's any more.
      await updateIdentity(ctx, identity.node, (stored) => (stored.bootstrapTokenId !== id || stored.revokedTokenId === id ? stored : {
        ...stored, revokedAt: state.at, revokedReason: state.reason, revokedTokenId: id,
      }));
      const users = liveUsers(identity, now.getTime());
      await revokeUsers(ctx, users);
      const revoked = new Set(users.map((user) => user.publicKey));
      await updateIdentity(ctx, identity.node, (stored) => ({ ...stored, natsUsers: stored.natsUsers.filter((user) => !revoked.has(user.publicKey)) }));
      ctx.logger.info('revoked a node joined by a revoked bootstrap token', { node: identity.node, token: id, reason: state.reason });
    }
  }

  return {
    name: 'nodecredentials',
    // One at a time: every revocation rewrites the account JWT from revocations.json.
    workers: 1,
    watch(ctx: ControllerContext, queue: WorkQueue) {
      busAuthority(ctx);
      deletedNodes.delete(ctx.informers);
      const deleted = deletedOf(ctx);
      const nodes = ctx.informers.informer(refs.nodes);
      const secrets = ctx.informers.informer(refs.secrets);
      const offNodes = nodes.addHandlers({
        onAdd: (node) => deleted.delete(objectKey(node)),
        onDelete: (node) => {
          deleted.add(objectKey(node));
          while (deleted.size > nodeCredentialsRevokerLimits.deletedNodesMax) deleted.delete(deleted.values().next().value as string);
          queue.add(nodeKey(objectKey(node)));
        },
      });
      const onSecret = (secret: KubeObject): void => {
        if (secret.metadata.namespace !== tokenNamespace) return;
        const identity = nodeIdentityOf(secret);
        if (identity !== null) {
          queue.add(nodeKey(identity.node));
          if (identity.bootstrapTokenId !== '') queue.add(tokenKey(identity.bootstrapTokenId));
        } else if (secret['type'] === bootstrapTokenType && secret.metadata.name?.startsWith('bootstrap-token-') === true) {
          queue.add(tokenKey(secret.metadata.name.slice('bootstrap-token-'.length)));
        }
      };
      const offSecrets = secrets.addHandlers({ onAdd: onSecret, onUpdate: (_previous, secret) => onSecret(secret), onDelete: onSecret });
      return () => {
        offNodes();
        offSecrets();
        deletedNodes.delete(ctx.informers);
      };
    },
    async reconcile(key, ctx) {
      const slash = key.indexOf('/');
      const kind = key.slice(0, slash);
      const name = key.slice(slash + 1);
      if (kind === 'node') return reconcileNode(ctx, name);
      if (kind === 'token') return reconcileToken(ctx, name);
    },
  };
}

export const nodeCredentialsController: ControllerSpec = createNodeCredentialsController();
