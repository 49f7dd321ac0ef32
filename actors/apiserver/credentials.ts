/**
 * A cluster's credentials on disk, created once and reused on every restart:
 * `pki/ca.crt`, `pki/ca.key`, `pki/server.crt`, `pki/server.key`, `pki/sa.key` and `pki/sa.pub` (the
 * ServiceAccount token signing pair, ECDSA P-256 for ES256) and `tokens.csv` (an admin token and
 * one per control-plane component).
 * Private keys and the token file are readable by the owner only.
 */
import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { createCa, issueServingCert } from './pki.js';
import { generateToken, parseTokenFile, tokenLine } from './tokens.js';

export interface ClusterCredentials {
  readonly caCertPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  readonly adminToken: string;
  /** Static tokens of the control-plane components, by user name (componentUsers). */
  readonly componentTokens: Readonly<Record<string, string>>;
  readonly tokensFile: string;
}

export const adminUser = { name: 'kubus-admin', uid: 'kubus-admin', groups: ['system:masters'] } as const;

/**
 * One identity per control-plane component, with the user names Kubernetes' default policy binds
 * (authz/default-policy.ts): each component gets exactly its own role, never the admin's.
 */
export const componentUsers = [
  { name: 'system:kube-scheduler', uid: 'system:kube-scheduler', groups: [] },
  { name: 'system:kube-controller-manager', uid: 'system:kube-controller-manager', groups: [] },
  { name: 'system:kube-proxy', uid: 'system:kube-proxy', groups: [] },
  { name: 'system:cloud-controller-manager', uid: 'system:cloud-controller-manager', groups: [] },
] as const;

export async function ensureClusterCredentials(dir: string, options: { hosts: readonly string[] }): Promise<ClusterCredentials> {
  const pki = join(dir, 'pki');
  mkdirSync(pki, { recursive: true, mode: 0o700 });
  const paths = { caCert: join(pki, 'ca.crt'), caKey: join(pki, 'ca.key'), cert: join(pki, 'server.crt'), key: join(pki, 'server.key') };
  if (!existsSync(paths.caCert) || !existsSync(paths.caKey)) {
    const ca = await createCa('kubus-ca');
    writeFileSync(paths.caKey, ca.keyPem, { mode: 0o600 });
    writeFileSync(paths.caCert, ca.certPem);
  }
  const ca = { certPem: readFileSync(paths.caCert, 'utf8'), keyPem: readFileSync(paths.caKey, 'utf8') };
  if (!existsSync(paths.cert) || !existsSync(paths.key)) {
    const names = ['localhost', ...options.hosts];
    const serving = await issueServingCert(ca, {
      dnsNames: [...new Set(names.filter((host) => isIP(host) === 0))],
      ipAddresses: [...new Set(['127.0.0.1', ...names.filter((host) => isIP(host) !== 0)])],
    });
    writeFileSync(paths.key, serving.keyPem, { mode: 0o600 });
    writeFileSync(paths.cert, serving.certPem);
  }
  ensureServiceAccountKey(pki);
  const tokensFile = join(dir, 'tokens.csv');
  if (!existsSync(tokensFile)) writeFileSync(tokensFile, `${tokenLine(generateToken(), adminUser)}\n`, { mode: 0o600 });
  // A token file from before component identities existed gets the missing ones appended.
  const known = new Set([...parseTokenFile(readFileSync(tokensFile, 'utf8'), tokensFile).values()].map((user) => user.name));
  for (const user of componentUsers) {
    if (!known.has(user.name)) appendFileSync(tokensFile, `${tokenLine(generateToken(), { ...user, groups: [...user.groups] })}\n`);
  }
  const tokens = [...parseTokenFile(readFileSync(tokensFile, 'utf8'), tokensFile)];
  const admin = tokens.find(([, user]) => user.name === adminUser.name);
  if (admin === undefined) throw new Error(`${tokensFile} has no ${adminUser.name} token; remove the file to have a new one generated`);
  return {
    caCertPem: ca.certPem,
    serverCertPem: readFileSync(paths.cert, 'utf8'),
    serverKeyPem: readFileSync(paths.key, 'utf8'),
    adminToken: admin[0],
    componentTokens: Object.fromEntries(componentUsers.map((c) => [c.name, (tokens.find(([, user]) => user.name === c.name) as [string, unknown])[0]])),
    tokensFile,
  };
}

/** The ServiceAccount signing pair, generated once: every member verifies with the same `sa.pub`. */
function ensureServiceAccountKey(pki: string): void {
  const key = join(pki, 'sa.key');
  const pub = join(pki, 'sa.pub');
  if (existsSync(key) && existsSync(pub)) return;
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(key, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(pub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
}
