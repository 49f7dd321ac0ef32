/**
 * The node's identity in `--dir`, so a restart reuses it (no token needed) and an offline restart
 * can still connect once NATS returns:
 *   identity.json      node name and server it joined (0600)
 *   pki/ca.crt         the pinned cluster CA
 *   pki/node.pem       the client certificate `system:node:<name>` and its key in one file (0600),
 *                      as the kubelet's kubelet-client-current.pem, so a renewal swaps both at once
 *   credentials.json   the last NATS user and API token (0600; secrets with an expiry)
 * Every file is written to a temporary name and renamed, so a crash leaves the old or the new
 * file, never half of one.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeCredentials } from './node-credentials.js';

export interface StoredIdentity {
  readonly node: string;
  readonly server: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

function paths(dir: string) {
  return {
    identity: join(dir, 'identity.json'), pki: join(dir, 'pki'), ca: join(dir, 'pki', 'ca.crt'),
    node: join(dir, 'pki', 'node.pem'), credentials: join(dir, 'credentials.json'),
  };
}

function writeAtomic(path: string, content: string, mode: number): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, content, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, path);
}

export function loadIdentity(dir: string): StoredIdentity | null {
  const p = paths(dir);
  if (![p.identity, p.ca, p.node].every((path) => existsSync(path))) return null;
  const meta = JSON.parse(readFileSync(p.identity, 'utf8')) as { node: string; server: string };
  const pem = readFileSync(p.node, 'utf8');
  const certPem = pemBlocks(pem).filter((block) => block.includes('CERTIFICATE')).join('');
  const keyPem = pemBlocks(pem).filter((block) => block.includes('PRIVATE KEY')).join('');
  return { node: meta.node, server: meta.server, caPem: readFileSync(p.ca, 'utf8'), certPem, keyPem };
}

export function saveIdentity(dir: string, identity: StoredIdentity): void {
  const p = paths(dir);
  mkdirSync(p.pki, { recursive: true, mode: 0o700 });
  writeAtomic(p.ca, identity.caPem, 0o644);
  writeAtomic(p.node, `${identity.certPem.trim()}\n${identity.keyPem.trim()}\n`, 0o600);
  writeAtomic(p.identity, `${JSON.stringify({ node: identity.node, server: identity.server }, null, 2)}\n`, 0o600);
}

function pemBlocks(text: string): string[] {
  return text.match(/-----BEGIN [A-Z ]+-----[\s\S]*?-----END [A-Z ]+-----\n?/g) ?? [];
}

export function loadCredentials(dir: string): NodeCredentials | null {
  const path = paths(dir).credentials;
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as NodeCredentials;
  } catch {
    return null; // a torn or foreign file: the agent asks the API for new ones
  }
}

export function saveCredentials(dir: string, credentials: NodeCredentials): void {
  writeAtomic(paths(dir).credentials, `${JSON.stringify(credentials)}\n`, 0o600);
}
