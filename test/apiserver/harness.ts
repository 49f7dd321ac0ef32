/**
 * A real cluster for the API suites: credentials from `ensureClusterCredentials` in a temp dir, a
 * nats-server and N `kubus server` processes (LocalCluster), each serving the Kubernetes API over
 * HTTPS and NATS exactly as `kubus up` starts them, and a kubeconfig pointing at the first member
 * so tests drive the real kubectl. `request` speaks HTTPS trusting only the cluster CA; `objects`
 * is an ObjectStore on a store client of its own, for tests that start an extra server in-process.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng, SystemClock } from '../../bus/index.js';
import { ObjectStore, ensureClusterCredentials, kubeconfigYaml } from '../../actors/apiserver/index.js';
import { tokenLine } from '../../actors/apiserver/tokens.js';
import { LocalCluster } from '../../scenarios/topology/local-processes.js';
import { waitUntil } from '../support/wait.js';

export interface HttpReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ApiHarness {
  readonly dir: string;
  /** The first member's API: what the kubeconfig names. */
  readonly url: string;
  /** Every member's API URL, by member id. */
  readonly urls: ReadonlyMap<string, string>;
  readonly token: string;
  readonly caCertPem: string;
  /** The serving certificate and key, for tests that start a second server on the same store. */
  readonly tls: { readonly certPem: string; readonly keyPem: string };
  readonly kubeconfigPath: string;
  readonly objects: ObjectStore;
  /** The member processes (store and API), for fault injection. */
  readonly cluster: LocalCluster;
  /** Runs kubectl against the server with a private HOME and discovery cache. */
  kubectl(args: readonly string[], options?: { timeoutMs?: number }): Promise<KubectlResult>;
  /** One HTTPS request; `token: null` sends no Authorization header. */
  request(method: string, path: string, options?: { headers?: Record<string, string>; body?: string | Buffer; token?: string | null; member?: string; cert?: ClientCert }): Promise<HttpReply>;
  /** Waits until the member's `/readyz` answers 200 (after a start or restart). */
  waitReady(member: string, timeoutMs?: number): Promise<void>;
  /** Writes a manifest into the harness dir and returns its path. */
  manifest(name: string, text: string): string;
  stop(): Promise<void>;
}

export interface JsonReply {
  readonly status: number;
  readonly json: Record<string, any>;
}

/**
 * One JSON request as a given caller: a bearer token and/or a client certificate, or neither
 * (anonymous); a body that is not a string is sent as JSON.
 */
export async function callAs(h: Pick<ApiHarness, 'request'>, method: string, path: string, options: { token?: string; cert?: ClientCert; body?: unknown } = {}): Promise<JsonReply> {
  const reply = await h.request(method, path, {
    token: options.token ?? null,
    headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    ...(options.cert !== undefined ? { cert: options.cert } : {}),
    ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
  });
  return { status: reply.status, json: JSON.parse(reply.body || '{}') as Record<string, any> };
}

/** A client certificate and its key, presented in the TLS handshake. */
export interface ClientCert {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface HarnessUser {
  readonly token: string;
  readonly name: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
}

/** Lease 3 s, renew deadline 2 s, retry 500 ms: a killed holder is replaced in seconds, not Kubernetes' 15 s. */
export const harnessLeaderElectionArgs = ['--leader-elect-lease-duration', '3s', '--leader-elect-renew-deadline', '2s', '--leader-elect-retry-period', '500ms'] as const;

export async function startApiHarness(options: {
  members?: number; users?: readonly HarnessUser[]; serverArgs?: readonly string[];
  /** Flags for one member only, after serverArgs: `{ s3: ['--no-scheduler'] }`. */
  memberArgs?: Readonly<Record<string, readonly string[]>>;
} = {}): Promise<ApiHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-api-'));
  const credentials = await ensureClusterCredentials(join(dir, 'credentials'), { hosts: ['127.0.0.1', 'localhost'] });
  // Extra static-token users, for authorization suites; members read the file at start.
  for (const user of options.users ?? []) {
    appendFileSync(credentials.tokensFile, `${tokenLine(user.token, { name: user.name, uid: user.uid ?? user.name, groups: [...(user.groups ?? [])] })}\n`);
  }
  // Three members by default: the compatibility suite runs against a replicated cluster, as users do.
  // Fast leader election for the control loops (members run them by default); a test's serverArgs come later and win.
  const serverArgs = [...harnessLeaderElectionArgs, ...(options.serverArgs ?? [])];
  const cluster = new LocalCluster({ dir: join(dir, 'cluster'), members: options.members ?? 3, apiCredentialsDir: join(dir, 'credentials'), serverArgs,
    ...(options.memberArgs !== undefined ? { memberArgs: options.memberArgs } : {}) });
  try {
    await cluster.start();
    await cluster.waitForLeader({ timeoutMs: 20_000 });
    const urls = new Map(cluster.memberIds.map((id) => [id, cluster.apiUrl(id) as string]));
    const first = urls.get(cluster.memberIds[0] as string) as string;
    const request: ApiHarness['request'] = (method, path, opts = {}) => {
      const token = opts.token === undefined ? credentials.adminToken : opts.token;
      const base = opts.member === undefined ? first : urls.get(opts.member);
      if (base === undefined) throw new Error(`no member ${opts.member}`);
      return send(base, credentials.caCertPem, method, path, {
        headers: { ...(token !== null ? { Authorization: `Bearer ${token}` } : {}), ...opts.headers },
        ...(opts.body !== undefined ? { body: opts.body } : {}),
        ...(opts.cert !== undefined ? { cert: opts.cert } : {}),
      });
    };
    const waitReady = async (member: string, timeoutMs = 30_000): Promise<void> => {
      await waitUntil(`${member} ready`, async () => (await request('GET', '/readyz', { member, token: null }).catch(() => null))?.status === 200, { timeoutMs, intervalMs: 100 });
    };
    for (const id of cluster.memberIds) await waitReady(id);
    // Members create the default namespaces by themselves; the suites start once they exist.
    await waitUntil('the default namespace', async () => (await request('GET', '/api/v1/namespaces/default')).status === 200, { timeoutMs: 30_000, intervalMs: 100 });
    const objects = new ObjectStore(await cluster.client(), { clock: new SystemClock(), random: new Prng(1234) });
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml({
      clusterName: 'kubus', server: first, caCertPem: credentials.caCertPem, token: credentials.adminToken, userName: 'kubus-admin',
    }), { mode: 0o600 });
    return {
      dir, url: first, urls, token: credentials.adminToken, caCertPem: credentials.caCertPem, kubeconfigPath, objects, cluster,
      tls: { certPem: credentials.serverCertPem, keyPem: credentials.serverKeyPem },
      kubectl: (args, opts = {}) => runKubectl(dir, kubeconfigPath, args, opts.timeoutMs ?? 60_000),
      request,
      waitReady,
      manifest: (name, text) => {
        const path = join(dir, name);
        writeFileSync(path, text);
        return path;
      },
      stop: async () => {
        await cluster.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function runKubectl(dir: string, kubeconfig: string, args: readonly string[], timeoutMs: number): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), ...args], {
      env: { ...process.env, HOME: dir, KUBECONFIG: kubeconfig }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024,
    }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

export function send(base: string, ca: string, method: string, path: string, options: { headers: Record<string, string>; body?: string | Buffer; cert?: ClientCert }): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const tls = options.cert !== undefined ? { cert: options.cert.certPem, key: options.cert.keyPem } : {};
    const req = httpsRequest(new URL(path, base), { method, ca, headers: options.headers, ...tls }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
