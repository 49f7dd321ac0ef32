import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensureClusterCredentials } from '../../actors/apiserver/credentials.js';
import { TokenAuthenticator, generateToken, parseTokenFile, tokenLine } from '../../actors/apiserver/tokens.js';
import { kubeconfigYaml } from '../../actors/apiserver/kubeconfig.js';

describe('cluster credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-credentials-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('issues a CA and a serving certificate that a TLS client trusting the CA accepts', async () => {
    const credentials = await ensureClusterCredentials(dir, { hosts: ['127.0.0.1', 'kubus.local'] });
    const cert = new X509Certificate(credentials.serverCertPem);
    expect(cert.subjectAltName).toContain('DNS:kubus.local');
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.checkIssued(new X509Certificate(credentials.caCertPem))).toBe(true);
    expect(statSync(join(dir, 'pki', 'server.key')).mode & 0o077).toBe(0);
    const server = createServer({ cert: credentials.serverCertPem, key: credentials.serverKeyPem }, (socket) => socket.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const greeting = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, ca: credentials.caCertPem, servername: 'kubus.local' }, () => undefined);
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    server.close();
    expect(greeting).toBe('hello');
  });

  it('reuses what exists: the same CA and admin token on a second call', async () => {
    const first = await ensureClusterCredentials(dir, { hosts: ['127.0.0.1'] });
    const second = await ensureClusterCredentials(dir, { hosts: ['127.0.0.1'] });
    expect(second.caCertPem).toBe(first.caCertPem);
    expect(second.adminToken).toBe(first.adminToken);
    const user = TokenAuthenticator.fromFile(first.tokensFile).authenticate(`Bearer ${first.adminToken}`);
    expect(user?.groups).toContain('system:masters');
    expect(second.componentTokens).toEqual(first.componentTokens);
  });

  it('gives every control-plane component a token of its own, none of them an admin, and adds missing ones to an old file', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'kubus-credentials-old-'));
    try {
      // A token file written before components had identities: the admin line only.
      const first = await ensureClusterCredentials(fresh, { hosts: ['127.0.0.1'] });
      writeFileSync(first.tokensFile, readFileSync(first.tokensFile, 'utf8').split('\n')[0] + '\n');
      const upgraded = await ensureClusterCredentials(fresh, { hosts: ['127.0.0.1'] });
      expect(upgraded.adminToken).toBe(first.adminToken);
      const authenticator = TokenAuthenticator.fromFile(upgraded.tokensFile);
      for (const name of ['system:kube-scheduler', 'system:kube-controller-manager', 'system:kube-proxy']) {
        const token = upgraded.componentTokens[name] as string;
        const user = authenticator.authenticate(`Bearer ${token}`);
        expect(user?.name).toBe(name);
        expect(user?.groups).not.toContain('system:masters');
      }
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});

describe('tokens', () => {
  it('authenticates only a known bearer token', () => {
    const token = generateToken();
    const tokens = parseTokenFile(`# comment\n${tokenLine(token, { name: 'alice', uid: 'u1', groups: ['dev', 'ops'] })}\n`);
    const auth = new TokenAuthenticator(tokens);
    expect(auth.authenticate(`Bearer ${token}`)).toEqual({ name: 'alice', uid: 'u1', groups: ['dev', 'ops'] });
    expect(auth.authenticate(`Bearer ${token}x`)).toBeNull();
    expect(auth.authenticate(`Basic ${token}`)).toBeNull();
    expect(auth.authenticate(undefined)).toBeNull();
  });

  it('names the line of a malformed token file', () => {
    expect(() => parseTokenFile('good,user,uid\nnot-a-line\n')).toThrow(/line 2/);
  });
});

describe('kubeconfig', () => {
  it('holds the server, the CA and the token in one context', () => {
    const text = kubeconfigYaml({ clusterName: 'kubus', server: 'https://127.0.0.1:6443', caCertPem: 'PEM', token: 't0k', userName: 'kubus-admin' });
    const config = parse(text) as { clusters: { cluster: Record<string, string> }[]; users: { user: { token: string } }[]; 'current-context': string };
    expect(config.clusters[0]?.cluster['server']).toBe('https://127.0.0.1:6443');
    expect(Buffer.from(config.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString()).toBe('PEM');
    expect(config.users[0]?.user.token).toBe('t0k');
    expect(config['current-context']).toBe('kubus-admin@kubus');
  });
});
