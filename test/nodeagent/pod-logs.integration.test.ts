/**
 * `kubectl logs` through the agent and graceful pod deletion through kubectl, on a real member
 * (issue 11 §5). The test process plays the node's agent: an rpc server connected as the node's
 * own NATS user (`mintAgent`: it may subscribe only to its node's subjects and answer each request
 * once), a stub runtime that says which container instances run, and CRI log files the test
 * writes where the runtime would (log-paths.ts). The real kubectl then reads them through the API:
 * -c, --tail, --timestamps, --previous (and Kubernetes' 400 without a previous instance), -f while
 * lines are appended (ending when the instance exits); a pod on a node without an agent gets a
 * Status naming the node. Deletion: `kubectl delete pod --wait=false` answers at once and the pod
 * shows Terminating until a grace-0 delete (the agent's confirmation) removes it;
 * `--grace-period=0 --force` removes it at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { SystemClock, createJsonLogger } from '../../bus/index.js';
import { refs } from '../../actors/controllers/runtime/index.js';
import { containerLogPath } from '../../nodeagent/log-paths.js';
import { startRpcServer } from '../../nodeagent/rpc/index.js';
import { runtimeLabels, type ContainerRuntime, type ContainerStatus } from '../../nodeagent/runtime/types.js';
import { startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';

const runs = requireComponent('nats-server', 'apt-get install -y nats-server') && requireComponent('kubectl', 'install kubectl 1.32');
const node = 'logs-node';
const ns = 'default';

describe.runIf(runs)('kubectl logs through the node agent, graceful deletion through kubectl', () => {
  let h: ApiHarness;
  let agentDir: string;
  let rpc: { stop(): Promise<void> } | null = null;
  /** Container instances the stub runtime reports running, as `<uid>/<container>/<attempt>`. */
  const running = new Set<string>();
  let web: Pod;

  const runtime = {
    listContainers: async (): Promise<ContainerStatus[]> => [...running].map((key) => {
      const [uid, name, attempt] = key.split('/') as [string, string, string];
      return {
        id: key, sandboxId: uid, name, attempt: Number(attempt), state: 'running', createdAtMs: 0, startedAtMs: 0, finishedAtMs: null, exitCode: null,
        reason: null, message: null, logPath: '', image: 'x', labels: { [runtimeLabels.podUid]: uid, [runtimeLabels.containerName]: name, [runtimeLabels.attempt]: attempt },
      };
    }),
  } as unknown as ContainerRuntime;

  const cri = (second: number, text: string, tag: 'F' | 'P' = 'F'): string => `2026-12-03T05:00:${String(second).padStart(2, '0')}.000000001Z stdout ${tag} ${text}\n`;
  function writeLog(pod: Pod, container: string, attempt: number, text: string): string {
    const path = containerLogPath(agentDir, ns, pod.metadata?.name ?? '', pod.metadata?.uid ?? '', container, attempt);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  }

  async function createPod(name: string, nodeName: string, containers: readonly string[]): Promise<Pod> {
    return adminApi(h).create<Pod>(refs.pods, ns, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name },
      spec: { nodeName, terminationGracePeriodSeconds: 30, containers: containers.map((c) => ({ name: c, image: 'busybox' })) },
    });
  }

  async function kubectl(args: readonly string[]): Promise<string> {
    const result = await h.kubectl(args);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result.stdout;
  }

  beforeAll(async () => {
    h = await startApiHarness({ members: 1 });
    agentDir = mkdtempSync(join(tmpdir(), 'kubus-agent-logs-'));
    const user = await h.cluster.natsCredentials().mintAgent(h.cluster.cluster, node, { ttlMs: 10 * 60_000, nowMs: Date.now() });
    const bus = await h.cluster.connectAs(user, { name: `agent-${node}` });
    rpc = startRpcServer({ bus, cluster: h.cluster.cluster, nodeName: node, dir: agentDir, clock: new SystemClock(), logger: createJsonLogger({ level: 'warn', fields: { node } }) }, { runtime });
    await adminApi(h).create(refs.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: node } });
    web = await createPod('web', node, ['app', 'side']);
    writeLog(web, 'app', 0, cri(1, 'first run') + cri(2, 'crashed'));
    writeLog(web, 'app', 1, cri(3, 'one') + cri(4, 'tw', 'P') + cri(4, 'o') + cri(5, 'three'));
    writeLog(web, 'side', 0, cri(6, 'sidecar'));
    running.add(`${web.metadata?.uid}/app/1`).add(`${web.metadata?.uid}/side/0`);
  }, 90_000);

  afterAll(async () => {
    await rpc?.stop();
    await h?.stop();
    if (agentDir !== undefined) rmSync(agentDir, { recursive: true, force: true });
  });

  it('shows the current instance, the last lines, timestamps, another container and the previous instance', async () => {
    expect(await kubectl(['logs', 'web', '-c', 'app'])).toBe('one\ntwo\nthree\n');
    expect(await kubectl(['logs', 'web', '-c', 'app', '--tail=1'])).toBe('three\n');
    expect(await kubectl(['logs', 'web', '-c', 'app', '--tail=2', '--timestamps'])).toBe('2026-12-03T05:00:04.000000001Z two\n2026-12-03T05:00:05.000000001Z three\n');
    expect(await kubectl(['logs', 'web', '-c', 'side'])).toBe('sidecar\n');
    expect(await kubectl(['logs', 'web', '-c', 'app', '--previous'])).toBe('first run\ncrashed\n');
    expect(await kubectl(['logs', 'web', '-c', 'app', '--since-time=2026-12-03T05:00:04Z'])).toBe('two\nthree\n');
    expect(await kubectl(['logs', 'web', '-c', 'app', '--limit-bytes=6'])).toBe('one\ntw');
  });

  it('answers as Kubernetes when there is no previous instance, no such container, or no container named', async () => {
    const previous = await h.kubectl(['logs', 'web', '-c', 'side', '--previous']);
    expect(previous.code).not.toBe(0);
    expect(previous.stderr).toContain('previous terminated container "side" in pod "web" not found');
    const unknown = await h.kubectl(['logs', 'web', '-c', 'nope']);
    expect(unknown.stderr).toContain('container nope is not valid for pod web');
    const unnamed = await h.request('GET', `/api/v1/namespaces/${ns}/pods/web/log`);
    expect(unnamed.status).toBe(400);
    expect(JSON.parse(unnamed.body).message).toBe('a container name must be specified for pod web, choose one of: [app side]');
  });

  it('follows: lines appended while kubectl logs -f runs arrive, and it exits when the instance ends', async () => {
    const path = containerLogPath(agentDir, ns, 'web', web.metadata?.uid ?? '', 'side', 0);
    const child = spawn('kubectl', ['--kubeconfig', h.kubeconfigPath, '--cache-dir', join(h.dir, 'kube-cache'), 'logs', '-f', 'web', '-c', 'side'], { env: { ...process.env, HOME: h.dir } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      await waitUntil('the existing line', () => out === 'sidecar\n', { timeoutMs: 15_000 });
      appendFileSync(path, cri(7, 'appended') + cri(8, 'more'));
      await waitUntil('the appended lines', () => out === 'sidecar\nappended\nmore\n', { timeoutMs: 15_000 });
      appendFileSync(path, cri(9, 'last words'));
      running.delete(`${web.metadata?.uid}/side/0`);
      expect(await exited).toBe(0);
      expect(out).toBe('sidecar\nappended\nmore\nlast words\n');
    } finally {
      child.kill();
    }
  }, 60_000);

  it('names the node when its agent does not answer', async () => {
    await createPod('orphan', 'no-agent-node', ['app']);
    const reply = await h.kubectl(['logs', 'orphan']);
    expect(reply.code).not.toBe(0);
    expect(reply.stderr).toContain('the agent of node "no-agent-node" does not answer');
  });

  it('deletes a bound pod gracefully: Terminating until the agent confirms with grace 0; --force removes at once', async () => {
    await createPod('graceful', node, ['app']);
    expect(await kubectl(['delete', 'pod', 'graceful', '--wait=false'])).toContain('pod "graceful" deleted');
    const marked = await adminApi(h).get<Pod>(refs.pods, ns, 'graceful');
    expect(marked.metadata?.deletionGracePeriodSeconds).toBe(30);
    expect(Date.parse(marked.metadata?.deletionTimestamp ?? '') - Date.now()).toBeGreaterThan(20_000);
    expect(await kubectl(['get', 'pod', 'graceful'])).toMatch(/graceful\s+\S+\s+Terminating/);
    // A second delete may shorten the grace, never lengthen it.
    await adminApi(h).delete(refs.pods, ns, 'graceful', { gracePeriodSeconds: 60 });
    expect((await adminApi(h).get<Pod>(refs.pods, ns, 'graceful')).metadata?.deletionGracePeriodSeconds).toBe(30);
    await adminApi(h).delete(refs.pods, ns, 'graceful', { gracePeriodSeconds: 5 });
    expect((await adminApi(h).get<Pod>(refs.pods, ns, 'graceful')).metadata?.deletionGracePeriodSeconds).toBe(5);
    // The agent's confirmation.
    await adminApi(h).delete(refs.pods, ns, 'graceful', { gracePeriodSeconds: 0, preconditions: { uid: marked.metadata?.uid ?? '' } });
    expect((await h.kubectl(['get', 'pod', 'graceful'])).stderr).toContain('pods "graceful" not found');

    await createPod('forced', node, ['app']);
    expect((await h.kubectl(['delete', 'pod', 'forced', '--grace-period=0', '--force'])).code).toBe(0);
    expect((await h.kubectl(['get', 'pod', 'forced'])).stderr).toContain('pods "forced" not found');

    // Unbound pods have nothing to stop: they go at once.
    await adminApi(h).create(refs.pods, ns, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'unbound' }, spec: { schedulerName: 'nobody', containers: [{ name: 'app', image: 'busybox' }] } });
    expect(await kubectl(['delete', 'pod', 'unbound', '--wait=false'])).toContain('pod "unbound" deleted');
    expect((await h.kubectl(['get', 'pod', 'unbound'])).stderr).toContain('pods "unbound" not found');
  });
});
