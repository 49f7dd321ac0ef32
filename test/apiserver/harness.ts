/**
 * A whole API server on real parts for integration tests: a 3-member store (LocalCluster, real
 * nats-server and member process), an ObjectStore on its client, credentials from
 * `ensureClusterCredentials` in a temp dir, `startApiServer` over HTTPS, and a kubeconfig so tests
 * can drive the real kubectl. `request` speaks HTTPS trusting only the cluster CA.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng, SystemClock, createJsonLogger } from '../../bus/index.js';
import {
  ObjectStore, TokenAuthenticator, ensureClusterCredentials, kubeconfigYaml, startApiServer, type RunningApiServer,
} from '../../actors/apiserver/index.js';
import { LocalCluster } from '../../scenarios/topology/local-processes.js';

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
  readonly url: string;
  readonly token: string;
  readonly caCertPem: string;
  /** The serving certificate and key, for tests that start a second server on the same store. */
  readonly tls: { readonly certPem: string; readonly keyPem: string };
  readonly kubeconfigPath: string;
  readonly objects: ObjectStore;
  /** The store's member processes, for fault injection. */
  readonly cluster: LocalCluster;
  /** Runs kubectl against the server with a private HOME and discovery cache. */
  kubectl(args: readonly string[], options?: { timeoutMs?: number }): Promise<KubectlResult>;
  /** One HTTPS request; `token: null` sends no Authorization header. */
  request(method: string, path: string, options?: { headers?: Record<string, string>; body?: string | Buffer; token?: string | null }): Promise<HttpReply>;
  /** Writes a manifest into the harness dir and returns its path. */
  manifest(name: string, text: string): string;
  stop(): Promise<void>;
}

export async function startApiHarness(options: { limits?: Parameters<typeof startApiServer>[0]['limits']; members?: number } = {}): Promise<ApiHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-api-'));
  // Three members by default: the compatibility suite runs against a replicated store, as users do.
  const cluster = new LocalCluster({ dir: join(dir, 'store'), members: options.members ?? 3 });
  let server: RunningApiServer | null = null;
  try {
    await cluster.start();
    await cluster.waitForLeader({ timeoutMs: 20_000 });
    const client = await cluster.client();
    const objects = new ObjectStore(client, { clock: new SystemClock(), random: new Prng(1234) });
    await objects.ensureDefaults();
    const credentials = await ensureClusterCredentials(join(dir, 'credentials'), { hosts: ['127.0.0.1', 'localhost'] });
    server = await startApiServer({
      host: '127.0.0.1', port: 0,
      tls: { certPem: credentials.serverCertPem, keyPem: credentials.serverKeyPem },
      authenticator: TokenAuthenticator.fromFile(credentials.tokensFile),
      objects,
      logger: createJsonLogger({ level: process.env['KUBUS_TEST_LOG'] ?? 'error' }),
      ...(options.limits !== undefined ? { limits: options.limits } : {}),
    });
    const running = server;
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml({
      clusterName: 'kubus', server: running.url, caCertPem: credentials.caCertPem, token: credentials.adminToken, userName: 'kubus-admin',
    }), { mode: 0o600 });
    return {
      dir, url: running.url, token: credentials.adminToken, caCertPem: credentials.caCertPem, kubeconfigPath, objects, cluster,
      tls: { certPem: credentials.serverCertPem, keyPem: credentials.serverKeyPem },
      kubectl: (args, opts = {}) => runKubectl(dir, kubeconfigPath, args, opts.timeoutMs ?? 60_000),
      request: (method, path, opts = {}) => {
        const token = opts.token === undefined ? credentials.adminToken : opts.token;
        return send(running.url, credentials.caCertPem, method, path, {
          headers: { ...(token !== null ? { Authorization: `Bearer ${token}` } : {}), ...opts.headers },
          ...(opts.body !== undefined ? { body: opts.body } : {}),
        });
      },
      manifest: (name, text) => {
        const path = join(dir, name);
        writeFileSync(path, text);
        return path;
      },
      stop: async () => {
        await running.close();
        await cluster.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await server?.close();
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

export function send(base: string, ca: string, method: string, path: string, options: { headers: Record<string, string>; body?: string | Buffer }): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(new URL(path, base), { method, ca, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
