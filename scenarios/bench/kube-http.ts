/**
 * A minimal Kubernetes API client over HTTPS for benches that run against a `kubus up` cluster:
 * the admin kubeconfig's server, CA and token; JSON requests and one watch stream. Kept tiny on
 * purpose: the bench measures the cluster, not a client library.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { parse } from 'yaml';

export interface KubeHttp {
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Streams watch events of `path` (a collection URL) until `stop()`; `onEvent` gets each parsed line. */
  watch(path: string, onEvent: (event: { type: string; object: unknown }) => void, onEnd?: () => void): { stop(): void };
  close(): void;
}

interface Kubeconfig {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { user: { token: string } }[];
}

export const kubeHttpLimits = {
  /** A single request gives up after this (a create under load takes well under a second). */
  requestTimeoutMs: 30_000,
  /** Sockets kept open to the API server: the bench's own concurrency bound. */
  socketsMax: 32,
} as const;

export function kubeHttpFromKubeconfig(path: string): KubeHttp {
  const config = parse(readFileSync(path, 'utf8')) as Kubeconfig;
  const cluster = config.clusters[0]?.cluster;
  const token = config.users[0]?.user.token;
  if (cluster === undefined || token === undefined) throw new Error(`${path}: expected one cluster and one token user`);
  const server = new URL(cluster.server);
  const agent = new Agent({ ca: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8'), keepAlive: true, maxSockets: kubeHttpLimits.socketsMax });
  const options = (method: string, path: string) => ({
    host: server.hostname, port: server.port, method, path, agent,
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', 'Content-Type': 'application/json' },
  });
  return {
    call(method, path, body) {
      return new Promise((resolve, reject) => {
        const req = request({ ...options(method, path), timeout: kubeHttpLimits.requestTimeoutMs }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, body: (text === '' ? null : JSON.parse(text)) as never });
            } catch (error) {
              reject(error as Error);
            }
          });
        });
        req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${kubeHttpLimits.requestTimeoutMs} ms`)));
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });
    },
    watch(path, onEvent, onEnd) {
      // Its own socket (not the pool's): a long-lived stream must not hold one of the creators' sockets.
      const req = request({ ...options('GET', path), agent: new Agent({ ca: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8') }) }, (res) => {
        let pending = '';
        res.on('data', (chunk: Buffer) => {
          pending += chunk.toString();
          let newline = pending.indexOf('\n');
          while (newline >= 0) {
            const line = pending.slice(0, newline).trim();
            pending = pending.slice(newline + 1);
            if (line !== '') onEvent(JSON.parse(line) as { type: string; object: unknown });
            newline = pending.indexOf('\n');
          }
        });
        res.on('end', () => onEnd?.());
      });
      req.on('error', () => onEnd?.());
      req.end();
      return { stop: () => req.destroy() };
    },
    close: () => agent.destroy(),
  };
}
