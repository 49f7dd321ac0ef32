/**
 * Issue 13 §4, first acceptance case, as a user runs it, for one container runtime (cri or
 * docker): one control-plane member and two `kubus agent --runtime <r>` processes joined with a
 * bootstrap token (runtime-cluster.ts), then with kubectl:
 * - a Deployment of 3 busybox HTTP servers (`kubus.local/busybox:1.35`, imagePullPolicy Never:
 *   the agents import the locally built image, no registry) runs; each pod answers on its pod IP;
 * - `kubectl logs -f` streams lines written after it started;
 * - `kubectl exec pod -- sh -c 'exit 3'` exits 3; `kubectl exec -i` carries stdin;
 * - `kubectl port-forward` carries an HTTP request; `kubectl cp` copies both ways;
 * - a container over its memory limit is OOMKilled and restarted;
 * - one agent SIGKILLed and restarted (`kubus up` restarts it): its containers kept running and
 *   are adopted: same container id, startedAt and restartCount, and the same per-start token in
 *   the served page (a restarted container would write a new one); exec reaches them after.
 *
 * Each verb is its own test so a report says which ones pass; they share one cluster (set up in
 * beforeAll), and the agent restart runs last. The suite needs the runtime's daemon (dockerd
 * answering, or containerd + the CNI plugins): outside CI it skips with the install command, in CI
 * (CI=true) it fails.
 */
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localImageRefs } from '../../nodeagent/runtime/images/index.js';
import { requireComponent } from '../support/components.js';
import { waitUntil } from '../support/wait.js';
import { runtimeClusterLimits, startRuntimeCluster, type E2eRuntime, type RuntimeCluster } from './runtime-cluster.js';

const port = 8080;
const e2eLimits = {
  /** Three pods scheduled, sandboxes made, images imported, httpd answering. */
  podsRunningMs: 120_000,
  /** The OOM kill comes within a second of the start; the restart after the kubelet's 10 s back-off. */
  oomRestartMs: 90_000,
  /** A streaming kubectl (logs -f, port-forward) must show its first output within this. */
  streamMs: 30_000,
} as const;

/** The daemon the runtime needs; false (skip) outside CI when absent, a throw in CI. */
export function runtimeAvailable(runtime: E2eRuntime): boolean {
  const base = requireComponent('nats-server', 'apt-get install -y nats-server') && requireComponent('kubectl', 'see https://kubernetes.io/docs/tasks/tools/');
  if (!base) return false;
  if (runtime === 'cri') {
    return requireComponent('containerd', 'apt-get install -y containerd') && requireComponent('ctr', 'apt-get install -y containerd') &&
      requireComponent('/usr/lib/cni/bridge', 'apt-get install -y containernetworking-plugins') && requireComponent('gcc', 'apt-get install -y gcc libc6-dev');
  }
  const answers = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
  if (answers) return true;
  if (process.env['CI'] === 'true') throw new Error('the Docker Engine does not answer (docker info) and CI=true forbids skipping; .ci/run starts dockerd');
  process.stderr.write('skipping: no Docker Engine answers (apt-get install -y docker.io; dockerd &)\n');
  return false;
}

function webDeployment(): string {
  // The page carries a token made at each container start: an adopted container keeps serving the same one.
  const script = 'mkdir -p /www && echo "$HOSTNAME $(cat /proc/sys/kernel/random/uuid)" > /www/index.html && echo "serving $HOSTNAME" && exec httpd -f -v -p 8080 -h /www';
  return JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 3, selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [{
            name: 'web', image: localImageRefs.busybox, imagePullPolicy: 'Never', command: ['sh', '-c', script],
            ports: [{ containerPort: port }],
            readinessProbe: { httpGet: { path: '/', port }, periodSeconds: 1, failureThreshold: 1 },
          }],
        },
      },
    },
  });
}

function pod(name: string, command: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: name } },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name, image: localImageRefs.busybox, imagePullPolicy: 'Never', command: ['sh', '-c', command], ...extra }] },
  });
}

const isReady = (pod: Pod): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
const restarts = (pod: Pod): number => pod.status?.containerStatuses?.[0]?.restartCount ?? 0;
const live = (pod: Pod): boolean => pod.metadata?.deletionTimestamp === undefined;

async function podsOf(cluster: RuntimeCluster, app: string): Promise<Pod[]> {
  const run = await cluster.kubectl(['get', 'pods', '-l', `app=${app}`, '-o', 'json']);
  if (run.code !== 0) return [];
  return (JSON.parse(run.stdout) as { items: Pod[] }).items;
}

function describePods(pods: readonly Pod[]): string {
  return pods.map((p) => {
    const state = p.status?.containerStatuses?.[0]?.state;
    const detail = state?.waiting?.reason ?? state?.terminated?.reason ?? (state?.running !== undefined ? 'running' : 'no container status');
    return `${p.metadata?.name} ${p.status?.phase ?? '-'} ready=${isReady(p)} node=${p.spec?.nodeName ?? '-'} ip=${p.status?.podIP ?? '-'} ${detail} ${state?.waiting?.message ?? ''} restarts=${restarts(p)}`;
  }).join('\n') || '(no pods)';
}

async function waitForRunningPods(cluster: RuntimeCluster, app: string, count: number): Promise<Pod[]> {
  let last: Pod[] = [];
  return waitUntil(`${count} ${app} pods Running and Ready`, async () => {
    last = (await podsOf(cluster, app)).filter(live);
    return last.length === count && last.every((p) => p.status?.phase === 'Running' && isReady(p)) ? last : null;
  }, { timeoutMs: e2eLimits.podsRunningMs, intervalMs: 500 }).catch((error: Error) => {
    throw new Error(`${error.message}; the pods:\n${describePods(last)}\n${cluster.logTail()}`);
  });
}

/** One HTTP request; null when nothing answered within the bound. */
function http(ip: string, port: number, path: string): Promise<{ status: number; body: string } | null> {
  return new Promise((done) => {
    const req = request({ host: ip, port, path, timeout: 2_000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(null));
    req.end();
  });
}

interface ContainerIdentity {
  readonly containerId: string;
  readonly startedAt: string;
  readonly restarts: number;
}

function identity(p: Pod): ContainerIdentity {
  const status = p.status?.containerStatuses?.[0];
  return { containerId: status?.containerID ?? '', startedAt: status?.state?.running?.startedAt ?? '', restarts: restarts(p) };
}

export function defineAcceptanceSuite(runtime: E2eRuntime): void {
  describe.runIf(runtimeAvailable(runtime))(`issue 13 acceptance with the ${runtime} runtime`, () => {
    let cluster: RuntimeCluster;
    let web: Pod[] = [];
    const kubectl = (args: readonly string[], input?: string) => cluster.kubectl(args, input);

    beforeAll(async () => {
      cluster = await startRuntimeCluster(runtime, `h3-e2e-${runtime}`);
      const applied = await kubectl(['apply', '-f', '-'], webDeployment());
      expect([applied.code, applied.stderr]).toEqual([0, '']);
      web = await waitForRunningPods(cluster, 'web', 3);
    }, runtimeClusterLimits.agentReadyMs + e2eLimits.podsRunningMs + 60_000);

    afterAll(async () => {
      await cluster?.stop();
    }, 180_000);

    it('runs 3 busybox HTTP servers, each answering on its pod IP', async () => {
      expect(web.map((p) => p.spec?.containers[0]?.image)).toEqual([localImageRefs.busybox, localImageRefs.busybox, localImageRefs.busybox]);
      for (const p of web) {
        const answer = await http(p.status?.podIP ?? '', port, '/');
        expect([p.metadata?.name, answer?.status, answer?.body.split(' ')[0]]).toEqual([p.metadata?.name, 200, p.metadata?.name]);
      }
    });

    it('streams logs with kubectl logs -f', async () => {
      const applied = await kubectl(['apply', '-f', '-'], pod('ticker', 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.3; done'));
      expect(applied.code).toBe(0);
      await waitForRunningPods(cluster, 'ticker', 1);
      const before = await waitUntil('a first tick in kubectl logs', async () => {
        const run = await kubectl(['logs', 'ticker']);
        const ticks = [...run.stdout.matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
        return ticks.length > 0 ? Math.max(...ticks) : null;
      }, { timeoutMs: e2eLimits.streamMs, intervalMs: 300 });
      const follow = cluster.kubectlStream(['logs', '-f', 'ticker']);
      try {
        // Lines written after the follow began arrive on it: the stream is live, not a one-off read.
        await waitUntil('kubectl logs -f to show ticks written after it started', () => {
          const ticks = [...follow.output().matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
          return ticks.some((t) => t >= before + 3);
        }, { timeoutMs: e2eLimits.streamMs, intervalMs: 200 }).catch((error: Error) => {
          throw new Error(`${error.message}; kubectl said: ${follow.output().slice(-500)}`);
        });
        expect(follow.child.exitCode).toBeNull();
      } finally {
        follow.child.kill('SIGTERM');
      }
    });

    it('returns the exit code of kubectl exec', async () => {
      const name = web[0]?.metadata?.name ?? '';
      const run = await kubectl(['exec', name, '--', 'sh', '-c', 'exit 3']);
      expect([run.code, run.stderr]).toEqual([3, expect.stringContaining('exit code 3')]);
      const ok = await kubectl(['exec', name, '--', 'cat', '/www/index.html']);
      expect([ok.code, ok.stdout.split(' ')[0]]).toEqual([0, name]);
    });

    it('carries stdin with kubectl exec -i', async () => {
      const run = await kubectl(['exec', '-i', web[0]?.metadata?.name ?? '', '--', 'sh', '-c', 'tr a-z A-Z'], 'hello through stdin\n');
      expect([run.code, run.stdout, run.stderr]).toEqual([0, 'HELLO THROUGH STDIN\n', '']);
    });

    it('carries an HTTP request through kubectl port-forward', async () => {
      const name = web[1]?.metadata?.name ?? '';
      const forward = cluster.kubectlStream(['port-forward', `pod/${name}`, `:${port}`]);
      try {
        const localPort = await waitUntil('kubectl port-forward to say where it listens', () => {
          const match = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(forward.output());
          return match === null ? null : Number(match[1]);
        }, { timeoutMs: e2eLimits.streamMs, intervalMs: 100 }).catch((error: Error) => {
          throw new Error(`${error.message}; kubectl said: ${forward.output().slice(-500)}`);
        });
        const answer = await http('127.0.0.1', localPort, '/');
        expect([answer?.status, answer?.body.split(' ')[0]], forward.output().slice(-500)).toEqual([200, name]);
        // A second request on a new connection: the forward outlives one stream.
        expect((await http('127.0.0.1', localPort, '/'))?.status).toBe(200);
      } finally {
        forward.child.kill('SIGTERM');
      }
    });

    it('copies files both ways with kubectl cp', async () => {
      const name = web[2]?.metadata?.name ?? '';
      const dir = cluster.harness.dir;
      writeFileSync(join(dir, 'up.txt'), 'from the host\nline two\n');
      const upload = await kubectl(['cp', join(dir, 'up.txt'), `default/${name}:/tmp/up.txt`]);
      expect([upload.code, upload.stderr]).toEqual([0, '']);
      const read = await kubectl(['exec', name, '--', 'cat', '/tmp/up.txt']);
      expect(read.stdout).toBe('from the host\nline two\n');
      const download = await kubectl(['cp', `default/${name}:/www/index.html`, join(dir, 'down.html')]);
      expect([download.code, download.stderr]).toEqual([0, expect.any(String)]);
      expect(readFileSync(join(dir, 'down.html'), 'utf8').split(' ')[0]).toBe(name);
    });

    it('reports a container over its memory limit as OOMKilled and restarts it', async () => {
      // The string doubles until the shell passes 32 MiB: the kernel's OOM killer ends it.
      const applied = await kubectl(['apply', '-f', '-'], pod('hog', 'echo start; x=aaaaaaaaaaaaaaaa; while true; do x="$x$x"; done', {
        resources: { limits: { memory: '32Mi' }, requests: { memory: '32Mi' } },
      }));
      expect(applied.code).toBe(0);
      let last: Pod[] = [];
      const hog = await waitUntil('the hog pod restarted after an OOMKilled termination', async () => {
        last = (await podsOf(cluster, 'hog')).filter(live);
        const status = last[0]?.status?.containerStatuses?.[0];
        return status !== undefined && status.restartCount >= 1 && status.lastState?.terminated?.reason === 'OOMKilled' ? last[0] : null;
      }, { timeoutMs: e2eLimits.oomRestartMs, intervalMs: 500 }).catch((error: Error) => {
        throw new Error(`${error.message}; the pod: ${JSON.stringify(last[0]?.status?.containerStatuses ?? null)}`);
      });
      expect(hog?.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(137);
    });

    it('keeps containers running through an agent SIGKILL and adopts them after its restart', async () => {
      const pods = (await podsOf(cluster, 'web')).filter(live);
      const node = pods[0]?.spec?.nodeName ?? '';
      const onNode = pods.filter((p) => p.spec?.nodeName === node);
      const before = new Map(onNode.map((p) => [p.metadata?.name ?? '', identity(p)]));
      const pages = new Map(await Promise.all(onNode.map(async (p) => [p.metadata?.name ?? '', (await http(p.status?.podIP ?? '', port, '/'))?.body] as const)));
      await cluster.killAgent(node);

      // Agent down: its containers still serve, with the page they wrote at their start.
      for (const p of onNode) expect((await http(p.status?.podIP ?? '', port, '/'))?.body).toBe(pages.get(p.metadata?.name ?? ''));

      const agentLog = cluster.agents.find((a) => a.name === node)?.log ?? '';
      const logOffset = readFileSync(agentLog).length;
      await cluster.restartAgent(node);
      // The restarted agent's pod workers found each sandbox running and adopted it (instead of making a new one).
      await waitUntil(`agent ${node} to adopt its ${onNode.length} web pods`, () => {
        const lines = readFileSync(agentLog).subarray(logOffset).toString().split('\n').filter((line) => line.includes('adopted running pod sandbox'));
        return onNode.every((p) => lines.some((line) => line.includes(`"pod":"${p.metadata?.name ?? ''}"`)));
      }, { timeoutMs: 60_000, intervalMs: 250 }).catch((error: Error) => {
        throw new Error(`${error.message}\n${cluster.logTail(60)}`);
      });
      // Same containers (id, start, restart count), same page; Ready again.
      let now: Pod[] = [];
      await waitUntil(`the pods on ${node} Ready with their containers unchanged`, async () => {
        now = (await podsOf(cluster, 'web')).filter((p) => before.has(p.metadata?.name ?? ''));
        return now.length === before.size && now.every((p) => isReady(p) && JSON.stringify(identity(p)) === JSON.stringify(before.get(p.metadata?.name ?? '')));
      }, { timeoutMs: 60_000, intervalMs: 500 }).catch((error: Error) => {
        throw new Error(`${error.message}\nbefore: ${JSON.stringify([...before])}\nnow: ${JSON.stringify(now.map((p) => [p.metadata?.name, identity(p)]))}\n${describePods(now)}\n${cluster.logTail()}`);
      });
      for (const p of onNode) expect((await http(p.status?.podIP ?? '', port, '/'))?.body).toBe(pages.get(p.metadata?.name ?? ''));
      // Exec reaches an adopted container through the restarted agent.
      const exec = await kubectl(['exec', onNode[0]?.metadata?.name ?? '', '--', 'cat', '/www/index.html']);
      expect([exec.code, exec.stdout]).toEqual([0, pages.get(onNode[0]?.metadata?.name ?? '')]);
      // And after the agent has run its pods for a while (probes, status writes), still the same containers.
      const settled = (await podsOf(cluster, 'web')).filter((p) => before.has(p.metadata?.name ?? ''));
      expect(settled.map((p) => identity(p))).toEqual(settled.map((p) => before.get(p.metadata?.name ?? '')));
    });
  });
}
