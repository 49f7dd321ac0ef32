/**
 * Support for the worker-node acceptance suites (test/nodeagent/agent-*.integration.test.ts):
 * `kubus` and `kubectl` run as a user runs them (real processes, in a temp directory holding
 * `.kubus`), pods read as kubectl prints them, and HTTP to a pod's own address. Every process a
 * suite starts is recorded in cluster.json (by `up`, or by the suite) so `kubus down` stops it.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ClusterFile } from '../../../actors/cli/commands/cluster-file.js';
import { waitUntil } from '../../support/wait.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const cli = join(repoRoot, 'actors/cli/main.ts');
// An absolute loader: the commands run in a directory outside the repository.
const tsxLoader = new URL('../../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `kubus <args>` in `cwd`; killed at the bound so a hung command fails the step instead of the suite's timeout. */
export function kubus(cwd: string, args: readonly string[], timeoutMs = 180_000): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, cli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** `kubectl <args>` in `cwd` (HOME there too, so no user kubeconfig is read), with `input` on stdin (for `apply -f -`). */
export function kubectlIn(cwd: string, args: readonly string[], input?: string): Promise<Run> {
  return new Promise((done) => {
    const child = execFile('kubectl', args, { cwd, env: { ...process.env, HOME: cwd }, timeout: 60_000 }, (error, stdout, stderr) => {
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** `kubectl --kubeconfig .kubus/kubeconfig <args>`: as the cluster's admin. */
export function kubectl(cwd: string, args: readonly string[], input?: string): Promise<Run> {
  return kubectlIn(cwd, ['--kubeconfig', join(cwd, '.kubus', 'kubeconfig'), ...args], input);
}

export function clusterFile(cwd: string): ClusterFile {
  return JSON.parse(readFileSync(join(cwd, '.kubus', 'cluster.json'), 'utf8')) as ClusterFile;
}

/** Pods selected by `app=<app>`, as the API has them now (an empty list when the API does not answer). */
export async function podsOf(cwd: string, app: string): Promise<Pod[]> {
  const run = await kubectl(cwd, ['get', 'pods', '-l', `app=${app}`, '-o', 'json']);
  if (run.code !== 0) return [];
  return (JSON.parse(run.stdout) as { items: Pod[] }).items;
}

export const isReady = (pod: Pod): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
export const restarts = (pod: Pod): number => pod.status?.containerStatuses?.[0]?.restartCount ?? 0;
export const live = (pod: Pod): boolean => pod.metadata?.deletionTimestamp === undefined;

/** One HTTP request to a pod's address; null when nothing answered within the bound. */
export function http(ip: string, port: number, path: string, method = 'GET'): Promise<{ status: number; body: string } | null> {
  return new Promise((done) => {
    const req = request({ host: ip, port, path, method, timeout: 2_000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(null));
    req.end();
  });
}

/**
 * The app every suite runs: a small HTTP server bound to its POD_IP (downward API) on `port`.
 * `/healthz` (readiness) answers 200 unless `/unready` was called; `/live` (liveness) answers 200
 * unless `/break` was called; `/pid` answers its process id. It logs `listening on <ip>:<port>`
 * and, on SIGTERM, appends `sigterm <POD_NAME>` to `marks` and exits.
 */
export function serverScript(port: number, marks: string): string {
  return [
    "const http = require('http'); const fs = require('fs');",
    'let ready = true; let alive = true;',
    'const server = http.createServer((q, s) => {',
    "  if (q.url === '/unready') ready = false;",
    "  if (q.url === '/break') alive = false;",
    "  if (q.url === '/pid') return s.end(String(process.pid));",
    "  const ok = q.url === '/healthz' ? ready : q.url === '/live' ? alive : true;",
    "  s.statusCode = ok ? 200 : 500; s.end(ok ? 'ok' : 'no');",
    '});',
    `server.listen(${port}, process.env.POD_IP, () => console.log('listening on ' + process.env.POD_IP + ':${port}'));`,
    `process.on('SIGTERM', () => { fs.appendFileSync(${JSON.stringify(marks)}, 'sigterm ' + process.env.POD_NAME + '\\n'); process.exit(0); });`,
  ].join('\n');
}

/** A Deployment of `serverScript` with readiness and liveness probes and a preStop hook writing to `marks`. */
export function serverDeployment(input: { name: string; replicas: number; port: number; marks: string }): string {
  const container = {
    name: 'web', image: 'kubus.io/process', command: [process.execPath, '-e', serverScript(input.port, input.marks)],
    env: [
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ],
    ports: [{ containerPort: input.port }],
    readinessProbe: { httpGet: { path: '/healthz', port: input.port }, periodSeconds: 1, failureThreshold: 1 },
    livenessProbe: { httpGet: { path: '/live', port: input.port }, periodSeconds: 1, failureThreshold: 2 },
    lifecycle: { preStop: { exec: { command: ['sh', '-c', `echo "prestop $POD_NAME" >> ${input.marks}`] } } },
  };
  return JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: input.name, namespace: 'default' },
    spec: {
      replicas: input.replicas, selector: { matchLabels: { app: input.name } },
      template: { metadata: { labels: { app: input.name } }, spec: { terminationGracePeriodSeconds: 5, containers: [container] } },
    },
  });
}

/** One line per pod: what a failed wait shows (phase, readiness, node, the container's state). */
export function describePods(pods: readonly Pod[]): string {
  return pods.map((p) => {
    const state = p.status?.containerStatuses?.[0]?.state;
    const detail = state?.waiting?.reason ?? state?.terminated?.reason ?? (state?.running !== undefined ? 'running' : 'no container status');
    return `${p.metadata?.name} ${p.status?.phase ?? '-'} ready=${isReady(p)} node=${p.spec?.nodeName ?? '-'} ip=${p.status?.podIP ?? '-'} ${detail} restarts=${restarts(p)}`;
  }).join('\n') || '(no pods)';
}

/** Waits for exactly `count` live pods of `app`, all Running and Ready; a timeout says what the pods were. */
export async function waitForRunningPods(cwd: string, app: string, count: number, timeoutMs: number): Promise<Pod[]> {
  let last: Pod[] = [];
  return waitUntil(`${count} ${app} pods Running and Ready`, async () => {
    last = (await podsOf(cwd, app)).filter(live);
    return last.length === count && last.every((p) => p.status?.phase === 'Running' && isReady(p)) ? last : null;
  }, { timeoutMs, intervalMs: 500 }).catch((error: Error) => {
    throw new Error(`${error.message}; the pods:\n${describePods(last)}`);
  });
}
