/**
 * The agent's stream server under the real kubectl, through a real member (the API server's
 * WebSocket side, issue 13 §2): the test process plays the node's agent (its own NATS user, the
 * stream server, the process runtime running the pod's containers with the pod's uid).
 * `kubectl exec -- sh -c 'exit 3'` exits 3; `kubectl exec -i` feeds stdin; `kubectl attach -i`
 * reaches a `stdin: true` container's main process; `kubectl exec -it` (kubectl itself on a
 * terminal under script(1)) gives the command a terminal and its exit code; `kubectl port-forward` carries an HTTP
 * request to the pod's server; `kubectl cp` copies a file in and back out (exec + tar). Waits poll conditions with deadlines.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock, createJsonLogger } from '../../../bus/index.js';
import { refs } from '../../../actors/controllers/runtime/index.js';
import { startStreamServer } from '../../../nodeagent/rpc/stream-server.js';
import { createRuntime, runtimeLabels, type ContainerConfig, type ContainerRuntime, type PodSandboxConfig } from '../../../nodeagent/runtime/index.js';
import { startApiHarness, type ApiHarness } from '../../apiserver/harness.js';
import { requireComponent } from '../../support/components.js';
import { adminApi, markPodsReady } from '../../support/control-plane.js';
import { waitUntil } from '../../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server') && requireComponent('kubectl', 'install kubectl 1.32');
const node = 'stream-node';
const logger = createJsonLogger({ level: 'error', fields: { node } });

describe.runIf(runs)('kubectl exec, attach and port-forward through the agent stream server', () => {
  let h: ApiHarness;
  let dir: string;
  let runtime: ContainerRuntime | null = null;
  let server: { stop(): Promise<void> } | null = null;
  const children: ChildProcessWithoutNullStreams[] = [];

  beforeAll(async () => {
    h = await startApiHarness({ members: 1 });
    dir = mkdtempSync(join(tmpdir(), 'kubus-stream-kubectl-'));
    const user = await h.cluster.natsCredentials().mintAgent(h.cluster.cluster, node, { ttlMs: 10 * 60_000, nowMs: Date.now() });
    const bus = await h.cluster.connectAs(user, { name: `agent-${node}` });
    const clock = new SystemClock();
    runtime = createRuntime('process', { dir, podCidr: () => '127.64.254.0/24', nodeIp: '127.0.0.1', clock, logger });
    server = startStreamServer({ bus, cluster: h.cluster.cluster, nodeName: node, clock, logger }, { runtime });
    await adminApi(h).create(refs.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: node } });
    const pod = await adminApi(h).create<Pod>(refs.pods, 'default', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', labels: { app: 'stream-web' } },
      spec: { nodeName: node, containers: [{ name: 'app', image: 'busybox' }, { name: 'echo', image: 'busybox', stdin: true }] },
    });
    await runPod(runtime, pod);
    await waitUntil('the pod marked running', async () => (await markPodsReady(h, 'default', 'app=stream-web')) >= 0
      && (await adminApi(h).get<Pod>(refs.pods, 'default', 'web')).status?.phase === 'Running', { timeoutMs: 15_000 });
  }, 90_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await server?.stop();
    if (runtime !== null) {
      for (const sandbox of await runtime.listPodSandboxes()) await runtime.removePodSandbox(sandbox.id);
      await runtime.close();
    }
    await h?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  async function runPod(rt: ContainerRuntime, pod: Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    const sandbox: PodSandboxConfig = {
      uid, name: 'web', namespace: 'default', attempt: 0, hostname: 'web', labels: { [runtimeLabels.podUid]: uid }, annotations: {}, hostNetwork: false,
      logDirectory: join(dir, 'pods', uid), portMappings: [],
    };
    const sandboxId = await rt.runPodSandbox(sandbox);
    const ip = (await rt.podSandboxStatus(sandboxId))?.ip ?? '';
    const container = (name: string, command: string[], extra: Partial<ContainerConfig> = {}): ContainerConfig => ({
      name, image: 'busybox', command, args: [], env: [{ name: 'POD_IP', value: ip }], mounts: [], resources: {}, logPath: join(sandbox.logDirectory, name, '0.log'), attempt: 0,
      labels: { [runtimeLabels.podUid]: uid, [runtimeLabels.containerName]: name, [runtimeLabels.attempt]: '0' }, ...extra,
    });
    const httpServer = 'require("http").createServer((q, s) => s.end("pong " + q.url)).listen(8080, process.env.POD_IP)';
    for (const config of [container('app', [process.execPath, '-e', httpServer]), container('echo', ['sh', '-c', 'while read line; do echo "got $line"; done'], { stdin: true })]) {
      await rt.startContainer(await rt.createContainer(sandboxId, config, sandbox));
    }
  }

  function kubectl(args: readonly string[]): { child: ChildProcessWithoutNullStreams; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
    const child = spawn('kubectl', ['--kubeconfig', h.kubeconfigPath, '--cache-dir', join(h.dir, 'kube-cache'), ...args], { env: { ...process.env, HOME: h.dir } });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, stdout: () => out, stderr: () => err, exit };
  }

  it('kubectl exec exits with the command\'s code and feeds stdin', async () => {
    const exit3 = kubectl(['exec', 'web', '-c', 'app', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(await exit3.exit).toBe(3);
    expect(exit3.stdout()).toBe('out\n');
    expect(exit3.stderr()).toContain('err\n');
    const piped = kubectl(['exec', '-i', 'web', '-c', 'app', '--', 'sh', '-c', 'read line; echo "got $line"']);
    piped.child.stdin.end('hello\n');
    expect(await piped.exit).toBe(0);
    expect(piped.stdout()).toBe('got hello\n');
  }, 60_000);

  it('kubectl exec -it runs the command on a terminal (kubectl itself on one, under script)', async () => {
    const command = ['kubectl', '--kubeconfig', h.kubeconfigPath, '--cache-dir', join(h.dir, 'kube-cache'), 'exec', '-it', 'web', '-c', 'app', '--', 'sh'].map((arg) => `'${arg}'`).join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, HOME: h.dir } });
    children.push(child);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitUntil('a prompt', () => out.includes('$ ') || out.includes('# '), { timeoutMs: 20_000 });
    child.stdin.write('tty; echo "sum $((1 + 2))"; exit 5\n');
    expect(await exit).toBe(5);
    expect(out).toMatch(/\/dev\/pts\/\d+/);
    expect(out).toContain('sum 3');
  }, 60_000);

  it('kubectl attach -i reaches the container\'s main process', async () => {
    const attached = kubectl(['attach', '-i', 'web', '-c', 'echo']);
    // The agent's session may start after the first line is typed: type until an answer comes.
    await waitUntil('the echo through attach', () => {
      if (!attached.stdout().includes('got ping')) attached.child.stdin.write('ping\n');
      return attached.stdout().includes('got ping');
    }, { timeoutMs: 20_000, intervalMs: 500 });
    attached.child.kill('SIGINT');
  }, 60_000);

  it('kubectl cp both ways (exec with tar; a process container shares the host\'s files)', async () => {
    const local = join(dir, 'cp-source.bin');
    const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 256));
    writeFileSync(local, payload);
    const into = join(dir, 'cp-into');
    mkdirSync(into);
    const up = await h.kubectl(['cp', '-c', 'app', local, `web:${into}/copied.bin`]);
    expect(up.code, up.stderr).toBe(0);
    expect(readFileSync(join(into, 'copied.bin')).equals(payload)).toBe(true);
    const back = join(dir, 'cp-back.bin');
    const down = await h.kubectl(['cp', '-c', 'app', `web:${into}/copied.bin`, back]);
    expect(down.code, down.stderr).toBe(0);
    expect(readFileSync(back).equals(payload)).toBe(true);
  }, 60_000);

  it('kubectl port-forward carries an HTTP request to the pod', async () => {
    const forward = kubectl(['port-forward', 'pod/web', ':8080']);
    let port = 0;
    await waitUntil('the local port', () => {
      port = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(forward.stdout())?.[1] ?? 0);
      return port > 0;
    }, { timeoutMs: 20_000 });
    let body = '';
    await waitUntil('the pod\'s answer', async () => {
      body = await get(port, '/hello').catch(() => '');
      return body === 'pong /hello';
    }, { timeoutMs: 20_000, intervalMs: 250 });
    forward.child.kill('SIGINT');
  }, 60_000);
});

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}
