/**
 * `kubectl exec -it` through a real member and the agent's stream server: kubectl itself runs on
 * a terminal (under script(1)), the command gets one (its tty is a /dev/pts device), what is typed
 * reaches it and its exit code is kubectl's. The test process plays the node's agent (its own NATS
 * user, the stream server, the process runtime running the pod's container with the pod's uid).
 * The other verbs through real kubectl and a real agent process: test/nodeagent/interactive.integration.test.ts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

describe.runIf(runs)('kubectl exec -it through the agent stream server', () => {
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
      spec: { nodeName: node, containers: [{ name: 'app', image: 'busybox' }] },
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
    await rt.startContainer(await rt.createContainer(sandboxId, container('app', ['sleep', '600']), sandbox));
  }

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
});
