/**
 * `kubus token create|list|revoke`: tokens kept in the cluster store (Secrets in kube-system, see
 * actors/apiserver/authn/token-secrets.ts), managed over the Kubernetes API with the admin
 * kubeconfig `kubus up` wrote, so a revocation is seen by every member at once.
 */
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { parse } from 'yaml';
import { KubusError } from '../../../bus/errors.js';
import {
  newBootstrapToken, newKubusToken, revokedAtAnnotation, secretNamesForId, tokenNamespace, tokenRecord, type TokenRecord,
} from '../../apiserver/authn/index.js';
import type { KubeObject } from '../../apiserver/types.js';
import { readClusterFile } from './cluster-file.js';

export class TokenCommandError extends KubusError {
  override readonly name = 'TokenCommandError';
  readonly code = 'tokenCommand';
}

export interface TokenFlags {
  readonly dir: string;
  readonly kubeconfig?: string;
}

interface ApiTarget {
  readonly server: string;
  readonly caPem: string;
  readonly token: string;
}

/** The current context's server, CA and token from the admin kubeconfig. */
function apiTarget(flags: TokenFlags): ApiTarget {
  const path = flags.kubeconfig ?? readClusterFile(flags.dir)?.kubeconfig ?? join(flags.dir, 'kubeconfig');
  let config: { 'current-context'?: string; contexts?: { name: string; context: { cluster: string; user: string } }[];
    clusters?: { name: string; cluster: { server: string; 'certificate-authority-data'?: string } }[]; users?: { name: string; user: { token?: string } }[] };
  try {
    config = parse(readFileSync(path, 'utf8')) as typeof config;
  } catch (error) {
    throw new TokenCommandError(`cannot read the kubeconfig ${path} (${(error as Error).message}); pass --dir of a \`kubus up\` cluster or --kubeconfig`);
  }
  const context = config.contexts?.find((c) => c.name === config['current-context'])?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const token = config.users?.find((u) => u.name === context?.user)?.user.token;
  if (cluster === undefined || token === undefined || cluster['certificate-authority-data'] === undefined) {
    throw new TokenCommandError(`${path}: the current context needs a server, certificate-authority-data and a token user (the admin kubeconfig \`kubus up\` writes)`);
  }
  return { server: cluster.server, caPem: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8'), token };
}

/** Bounded: a member that accepts the connection but never answers must not hang the command. */
const requestTimeoutMs = 10_000;

function call(target: ApiTarget, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; json: unknown }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL(path, target.server), {
      method, ca: target.caPem, timeout: requestTimeoutMs,
      headers: { Authorization: `Bearer ${target.token}`, Accept: 'application/json', ...(payload !== undefined ? { 'Content-Type': contentType } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown = null;
        try { json = JSON.parse(text); } catch { json = { message: text }; }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('timeout', () => req.destroy(new TokenCommandError(`${target.server} did not answer within ${requestTimeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

function failed(what: string, reply: { status: number; json: unknown }): TokenCommandError {
  return new TokenCommandError(`${what}: HTTP ${reply.status}: ${(reply.json as { message?: string } | null)?.message ?? 'no message'}`);
}

/** `24h`, `30m`, `7d`, `90s`; `0` never expires. */
export function parseTtl(text: string): number | null {
  if (text === '0') return null;
  const match = /^(\d+)(s|m|h|d)$/.exec(text);
  if (match === null) throw new TokenCommandError(`--ttl ${text}: expected a number with s, m, h or d (24h), or 0 for no expiry`);
  const unitSeconds = { s: 1, m: 60, h: 3_600, d: 86_400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unitSeconds * 1000;
}

export async function runTokenCreate(flags: TokenFlags & { user?: string; group?: string[]; ttl: string; bootstrap?: boolean }): Promise<void> {
  const ttlMs = parseTtl(flags.ttl);
  const expiresAt = ttlMs === null ? null : new Date(Date.now() + ttlMs);
  let created;
  if (flags.bootstrap === true) created = newBootstrapToken(expiresAt, flags.group ?? []);
  else {
    if (flags.user === undefined || flags.user === '') throw new TokenCommandError('--user is required (or --bootstrap for a node-join token)');
    created = newKubusToken({ name: flags.user, uid: flags.user, groups: flags.group ?? [] }, expiresAt);
  }
  const target = apiTarget(flags);
  const reply = await call(target, 'POST', `/api/v1/namespaces/${tokenNamespace}/secrets`, created.secret);
  if (reply.status !== 201) throw failed('creating the token failed', reply);
  // Only the token on stdout, so `TOKEN=$(kubus token create ...)` works; the id goes to stderr.
  process.stderr.write(`token id ${created.id}${expiresAt !== null ? `, expires ${expiresAt.toISOString()}` : ''}\n`);
  process.stdout.write(`${created.token}\n`);
}

export async function runTokenList(flags: TokenFlags & { json?: boolean }): Promise<void> {
  const target = apiTarget(flags);
  const reply = await call(target, 'GET', `/api/v1/namespaces/${tokenNamespace}/secrets`);
  if (reply.status !== 200) throw failed('listing tokens failed', reply);
  const records = ((reply.json as { items?: KubeObject[] }).items ?? []).map(tokenRecord).filter((r): r is TokenRecord => r !== null);
  if (flags.json === true) {
    process.stdout.write(`${JSON.stringify(records.map((r) => ({ ...r, tokenSha256: undefined, status: tokenStatus(r) })))}\n`);
    return;
  }
  const rows = [['ID', 'TYPE', 'USER', 'GROUPS', 'EXPIRES', 'STATUS'],
    ...records.map((r) => [r.id, r.kind, r.user.name, r.user.groups.join(',') || '-', r.expiresAt?.toISOString() ?? 'never', tokenStatus(r)])];
  const widths = (rows[0] as string[]).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  for (const row of rows) process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()}\n`);
}

function tokenStatus(record: TokenRecord): string {
  if (record.revokedAt !== null) return 'revoked';
  if (record.expiresAt !== null && record.expiresAt.getTime() <= Date.now()) return 'expired';
  return 'valid';
}

export async function runTokenRevoke(id: string, flags: TokenFlags): Promise<void> {
  const target = apiTarget(flags);
  const patch = { metadata: { annotations: { [revokedAtAnnotation]: new Date().toISOString() } } };
  for (const name of secretNamesForId(id)) {
    const reply = await call(target, 'PATCH', `/api/v1/namespaces/${tokenNamespace}/secrets/${name}`, patch, 'application/merge-patch+json');
    if (reply.status === 404) continue;
    if (reply.status !== 200) throw failed(`revoking token ${id} failed`, reply);
    process.stdout.write(`token ${id} revoked\n`);
    return;
  }
  throw new TokenCommandError(`no token with id ${id}; \`kubus token list\` shows the ids`);
}
