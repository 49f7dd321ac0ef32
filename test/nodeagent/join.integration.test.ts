/**
 * Joining a node (issue 11 §2) against a real one-member cluster (nats-server + a member process,
 * node credentials with a 6 s TTL so renewal happens within the test):
 * - `kubus agent` with a wrong CA hash exits 1 saying the expected and actual hash and where to get it;
 * - a revoked and an expired bootstrap token are refused with what to do;
 * - a good token joins: the CA pinned, a certificate for system:node:<name>, NATS and the API as
 *   that node (the Node registers and its Lease renews);
 * - a second agent with the live node's name is refused (403 naming the node);
 * - a restart with the same --dir and no token reuses the identity (no new CSR);
 * - with credentials living 6 s the agent renews them (NATS user and API token) and stays connected
 *   and authorized across several lifetimes, without restarting.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newBootstrapToken, revokedAtAnnotation } from '../../actors/apiserver/authn/index.js';
import { createJsonLogger } from '../../bus/logger.js';
import {
  BootstrapTokenRefusedError, CaHashMismatchError, JoinRefusedError, caCertHash, ensureIdentity, loadIdentity,
} from '../../nodeagent/join/index.js';
import { defaultNodeConfig, startAgent, type RunningAgent } from '../../nodeagent/agent.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { callAs, startApiHarness, type ApiHarness } from '../apiserver/harness.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server');
const tsxLoader = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;
const cli = new URL('../../actors/cli/main.ts', import.meta.url).pathname;
const credentialsTtlSeconds = 6;
const csrPath = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

let h: ApiHarness;
let scratch: string;
let pin: string;
const agents: RunningAgent[] = [];
const logger = createJsonLogger({ level: 'warn' });
// The join's retry delay (it backs off between attempts on an unreachable server), not a wait in the test.
const env = { logger, nowMs: () => Date.now(), sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) };

const admin = (method: string, path: string, body?: unknown): ReturnType<typeof callAs> =>
  callAs(h, method, path, { token: h.token, ...(body !== undefined ? { body } : {}) });

async function bootstrapToken(expiresAt: Date): Promise<{ id: string; token: string }> {
  const created = newBootstrapToken(expiresAt);
  const reply = await admin('POST', '/api/v1/namespaces/kube-system/secrets', created.secret);
  expect(reply.status, JSON.stringify(reply.json)).toBe(201);
  return { id: created.token.split('.')[0] as string, token: created.token };
}

function runCli(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function csrCountFor(node: string): Promise<number> {
  const reply = await admin('GET', csrPath);
  const items = (reply.json['items'] ?? []) as { metadata: { name: string } }[];
  return items.filter((item) => item.metadata.name.startsWith(`node-csr-${node}-`)).length;
}

async function startJoined(node: string, dir: string, token?: string): Promise<RunningAgent> {
  const agent = await startAgent({
    join: { node, dir, server: h.url, ...(token !== undefined ? { token, caCertHash: pin } : {}) },
    runtime: 'hollow', node: defaultNodeConfig({ leaseRenewIntervalMs: 1_000 }), logger,
  });
  agents.push(agent);
  return agent;
}

beforeAll(async () => {
  if (!runs) return;
  h = await startApiHarness({ members: 1, serverArgs: ['--node-credentials-ttl', String(credentialsTtlSeconds)] });
  scratch = mkdtempSync(join(tmpdir(), 'kubus-join-'));
  pin = caCertHash(h.caCertPem);
  // The bootstrapper policy is created and watched after start.
  const probe = await bootstrapToken(new Date(Date.now() + 30 * 60_000));
  await waitUntil('the bootstrapper may list CSRs', async () => (await callAs(h, 'GET', csrPath, { token: probe.token })).status === 200,
    { timeoutMs: 20_000, intervalMs: 100 });
}, 90_000);

afterAll(async () => {
  for (const agent of agents) await agent.stop({ drain: false });
  await h?.stop();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe.runIf(runs)('kubus agent joining', () => {
  it('refuses a wrong CA hash, saying the expected and actual hash and where to get the right one', async () => {
    const { token } = await bootstrapToken(new Date(Date.now() + 30 * 60_000));
    const wrong = `sha256:${'0'.repeat(64)}`;
    const dir = join(scratch, 'wrong-hash');
    const result = await runCli(['agent', '--server', h.url, '--token', token, '--ca-cert-hash', wrong, '--name', 'wrong-hash', '--dir', dir, '--runtime', 'hollow', '--log-level', 'warn']);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(`has hash ${pin}, not the pinned ${wrong}: refusing to join`);
    expect(result.stderr).toContain('`kubus up` prints');
    expect(existsSync(join(dir, 'pki', 'node.pem'))).toBe(false);
  }, 40_000);

  it('refuses a revoked bootstrap token with what to do', async () => {
    const { id, token } = await bootstrapToken(new Date(Date.now() + 30 * 60_000));
    const patched = await h.request('PATCH', `/api/v1/namespaces/kube-system/secrets/bootstrap-token-${id}`, {
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: JSON.stringify({ metadata: { annotations: { [revokedAtAnnotation]: new Date().toISOString() } } }),
    });
    expect(patched.status, patched.body).toBe(200);
    const attempt = (): Promise<unknown> => ensureIdentity({ node: 'revoked', dir: join(scratch, 'revoked'), server: h.url, token, caCertHash: pin }, env);
    // Authenticators cache a token for up to a second.
    await waitUntil('the revoked token refused', async () => (await attempt().catch((error: unknown) => error)) instanceof BootstrapTokenRefusedError,
      { timeoutMs: 10_000, intervalMs: 300 });
    await expect(attempt()).rejects.toThrow(/expired, revoked or unknown; create a new one on the control plane \(`kubus token create --bootstrap`\)/);
  });

  it('refuses an expired bootstrap token', async () => {
    const { token } = await bootstrapToken(new Date(Date.now() - 1_000));
    const error = await ensureIdentity({ node: 'expired', dir: join(scratch, 'expired'), server: h.url, token, caCertHash: pin }, env).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BootstrapTokenRefusedError);
  });

  let first: RunningAgent;
  const firstDir = (): string => join(scratch, 'n1');

  it('joins with a good token: identity stored (key 0600), Node registered and its Lease renewed as system:node:n1', async () => {
    const { token } = await bootstrapToken(new Date(Date.now() + 30 * 60_000));
    first = await startJoined('n1', firstDir(), token);
    await first.connected();
    const identity = loadIdentity(firstDir());
    expect(identity?.node).toBe('n1');
    expect(caCertHash(identity?.caPem as string)).toBe(pin);
    expect(statSync(join(firstDir(), 'pki', 'node.pem')).mode & 0o777).toBe(0o600);
    await waitUntil('Node n1 registered', async () => (await admin('GET', '/api/v1/nodes/n1')).status === 200, { timeoutMs: 20_000, intervalMs: 200 });
    const lease = async (): Promise<string | undefined> =>
      (await admin('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1')).json['spec']?.renewTime as string | undefined;
    await waitUntil('Lease n1 renewed', async () => (await lease()) !== undefined, { timeoutMs: 20_000, intervalMs: 200 });
  }, 60_000);

  it('refuses a second agent with the live node\'s name, naming the node and what to do', async () => {
    const { token } = await bootstrapToken(new Date(Date.now() + 30 * 60_000));
    const error = await ensureIdentity({ node: 'n1', dir: join(scratch, 'n1-again'), server: h.url, token, caCertHash: pin }, env).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JoinRefusedError);
    expect((error as Error).message).toMatch(/n1/);
    expect((error as Error).message).toMatch(/kubectl delete node|--name/);
  });

  it('renews the NATS user and API token before they expire and stays connected and authorized', async () => {
    const initialExpiry = first.session.credentialsExpireAt();
    const expiries = new Set([initialExpiry]);
    const deadline = Date.now() + credentialsTtlSeconds * 2_500;
    let renewTime: unknown = null;
    let renewSeenAtMs = Date.now();
    while (Date.now() < deadline) {
      // The Lease (renewed every second) never stalls across a hand-over: no request of the agent is lost.
      const lease = (await admin('GET', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1')).json['spec']?.renewTime;
      if (lease !== renewTime) {
        renewTime = lease;
        renewSeenAtMs = Date.now();
      }
      expect(Date.now() - renewSeenAtMs, 'Lease renewal stalled').toBeLessThan(5_000);
      // Every call goes over NATS with the node's token: an expired JWT or token would fail it.
      const node = await first.session.api.get<{ metadata: { name: string } }>({ group: '', version: 'v1', resource: 'nodes', namespaced: false }, undefined, 'n1');
      expect(node.metadata.name).toBe('n1');
      expiries.add(first.session.credentialsExpireAt());
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(expiries.size).toBeGreaterThanOrEqual(3);
    expect(Date.parse(first.session.credentialsExpireAt())).toBeGreaterThan(Date.now());
  }, 40_000);

  it('restarts with the same --dir and no token: the identity is reused (no new CSR)', async () => {
    const csrsBefore = await csrCountFor('n1');
    await first.stop({ drain: false });
    const again = await startJoined('n1', firstDir());
    await again.connected();
    const node = await again.session.api.get<{ metadata: { name: string } }>({ group: '', version: 'v1', resource: 'nodes', namespaced: false }, undefined, 'n1');
    expect(node.metadata.name).toBe('n1');
    expect(await csrCountFor('n1')).toBe(csrsBefore);
  }, 40_000);

  it('after its Node is deleted (its NATS user revoked), the agent gets new credentials with its certificate and works again', async () => {
    const agent = agents[agents.length - 1] as RunningAgent;
    const before = agent.session.credentialsExpireAt();
    expect((await admin('DELETE', '/api/v1/nodes/n1')).status).toBe(200);
    const podsOfN1 = { group: '', version: 'v1', resource: 'pods', namespaced: true } as const;
    await waitUntil('new credentials after the revocation', async () => agent.session.credentialsExpireAt() !== before, { timeoutMs: 20_000, intervalMs: 200 });
    await waitUntil('the API answers the node again', async () =>
      (await agent.session.api.list(podsOfN1, { fieldSelector: 'spec.nodeName=n1' }).then(() => true, () => false)), { timeoutMs: 20_000, intervalMs: 500 });
  }, 60_000);

  it('refuses a wrong hash in process too, as a typed error', async () => {
    const { token } = await bootstrapToken(new Date(Date.now() + 30 * 60_000));
    const error = await ensureIdentity({ node: 'n9', dir: join(scratch, 'n9'), server: h.url, token, caCertHash: `sha256:${'a'.repeat(64)}` }, env).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaHashMismatchError);
  });
});
