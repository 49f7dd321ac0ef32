/**
 * `POST /api/v1/nodes/<name>/credentials` as the node itself (its client certificate): the NATS
 * user (minted for this node only, `agentPermissions`) and the API bearer token the agent uses
 * over NATS (actors/apiserver/http/node-credentials.ts answers it).
 */
import { JoinProtocolError, JoinRefusedError } from './errors.js';
import { callJson, isTransientStatus, statusMessage, TransportError, type HttpsTarget } from './https-client.js';

export interface NodeCredentials {
  readonly nats: {
    readonly servers: readonly string[];
    readonly cluster: string;
    readonly user: string;
    readonly jwt: string;
    readonly seed: string;
    readonly inboxPrefix: string;
    /** RFC 3339. */
    readonly expiresAt: string;
  };
  readonly apiToken: { readonly token: string; readonly expiresAt: string };
  /** When the agent received them (ms since the epoch): with `expiresAt`, where renewal falls. */
  readonly receivedAtMs: number;
}

export async function requestNodeCredentials(target: HttpsTarget, node: string, nowMs: number): Promise<NodeCredentials> {
  const response = await callJson(target, 'POST', `/api/v1/nodes/${encodeURIComponent(node)}/credentials`, {
    apiVersion: 'kubus.io/v1', kind: 'NodeCredentialsRequest',
  });
  if (response.status === 401 || response.status === 403) throw new JoinRefusedError(target.server, node, statusMessage(response));
  if (isTransientStatus(response.status)) throw new TransportError(`${response.status} ${statusMessage(response)}`);
  if (response.status !== 200 && response.status !== 201) {
    throw new JoinProtocolError(`asking ${target.server} for node ${node}'s credentials failed: ${response.status} ${statusMessage(response)}`);
  }
  return parseNodeCredentials(response.json, nowMs);
}

/** Checks the answer's shape (a member of another version must fail here, not later on connect). */
export function parseNodeCredentials(body: Record<string, unknown>, nowMs: number): NodeCredentials {
  const nats = body['nats'] as Record<string, unknown> | undefined;
  const apiToken = body['apiToken'] as Record<string, unknown> | undefined;
  const strings = (object: Record<string, unknown> | undefined, keys: readonly string[]): boolean =>
    object !== undefined && keys.every((key) => typeof object[key] === 'string' && object[key] !== '');
  if (!strings(nats, ['cluster', 'user', 'jwt', 'seed', 'inboxPrefix', 'expiresAt']) || !Array.isArray(nats?.['servers']) || !strings(apiToken, ['token', 'expiresAt'])) {
    throw new JoinProtocolError(`the node credentials answer lacks fields (nats.{servers,cluster,user,jwt,seed,inboxPrefix,expiresAt}, apiToken.{token,expiresAt}): ${JSON.stringify(Object.keys(body))}`);
  }
  const n = nats as Record<string, string>;
  const t = apiToken as Record<string, string>;
  return {
    nats: { servers: (nats?.['servers'] as unknown[]).map(String), cluster: n['cluster'] as string, user: n['user'] as string, jwt: n['jwt'] as string, seed: n['seed'] as string, inboxPrefix: n['inboxPrefix'] as string, expiresAt: n['expiresAt'] as string },
    apiToken: { token: t['token'] as string, expiresAt: t['expiresAt'] as string },
    receivedAtMs: nowMs,
  };
}
