/**
 * The cluster the acceptance scenario runs on: one control-plane member (test/apiserver/harness.ts,
 * a real nats-server and member process) and two `kubus agent` processes with a container runtime,
 * joined with a bootstrap token exactly as a real host joins. The agents are separate processes
 * so the scenario can SIGKILL one and start it again over the same `--dir`.
 *
 * Decision: not `kubus up`: every `up` cluster on a host uses the same loopback node addresses,
 * so only one runs at a time; this cluster's agents take their own (127.33.<i>.1), no DNS server
 * and no service proxy (the scenario needs neither), so it runs beside anything else.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node } from 'kubernetes-types/core/v1.js';
import { newBootstrapToken } from '../../actors/apiserver/authn/index.js';
import { caCertHash } from '../../nodeagent/join/index.js';
import { stopPrivateContainerd } from '../../nodeagent/runtime/cri/index.js';
import { ownerOf as dockerOwnerOf } from '../../nodeagent/runtime/docker/labels.js';
import { callAs, startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { waitUntil } from '../support/wait.js';

export type E2eRuntime = 'cri' | 'docker';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const cli = join(repoRoot, 'actors/cli/main.ts');
const tsxLoader = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

export const runtimeClusterLimits = {
  /** Join, runtime open (containerd start, image build and import) and the first Ready status on a loaded 2-core host. */
  agentReadyMs: 120_000,
  /** An agent's graceful stop (drain) before it is killed. */
  agentStopMs: 30_000,
  /** One kubectl call; the streaming ones are the caller's. */
  kubectlMs: 60_000,
} as const;

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface E2eAgent {
  readonly name: string;
  readonly dir: string;
  readonly log: string;
  pid: number;
}

export interface RuntimeCluster {
  readonly harness: ApiHarness;
  readonly agents: readonly E2eAgent[];
  kubectl(args: readonly string[], input?: string): Promise<Run>;
  /** A long-running kubectl (logs -f, port-forward): its output so far; the caller kills it. */
  kubectlStream(args: readonly string[]): { readonly child: ChildProcess; output(): string };
  killAgent(name: string): Promise<void>;
  /** Starts the agent again over its `--dir` (its identity is there: no token) and waits for its Node to be Ready with a fresh Lease. */
  restartAgent(name: string): Promise<void>;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function agentArgs(runtime: E2eRuntime, agent: E2eAgent, index: number): string[] {
  return [
    'agent', '--name', agent.name, '--dir', agent.dir, '--runtime', runtime, '--node-ip', `127.33.${index}.1`,
    '--no-service-proxy', '--no-cluster-dns', '--node-lease-renew-interval', '2s', '--drain-on-stop', '--log-level', 'info',
    // Private containerds' bridges: subnets of their own, apart from the runtime suites' and `kubus up`'s 10.88.0.0/16.
    ...(runtime === 'cri' ? ['--cri-pod-subnet', `10.77.${index}.0/24`] : []),
  ];
}

function spawnAgent(agent: E2eAgent, args: readonly string[]): number {
  const log = openSync(agent.log, 'a');
  try {
    const child = spawn(process.execPath, ['--import', tsxLoader, cli, ...args], { detached: true, stdio: ['ignore', log, log] });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start agent ${agent.name}`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

export async function startRuntimeCluster(runtime: E2eRuntime, prefix: string): Promise<RuntimeCluster> {
  const harness = await startApiHarness({ members: 1 });
  const agents: E2eAgent[] = [1, 2].map((i) => {
    const name = `${prefix}-${i}`;
    const dir = join(harness.dir, 'agents', name);
    mkdirSync(dir, { recursive: true });
    return { name, dir, log: join(harness.dir, `${name}.log`), pid: 0 };
  });
  const kubectl = (args: readonly string[], input?: string): Promise<Run> => new Promise((done) => {
    const child = execFile('kubectl', ['--kubeconfig', harness.kubeconfigPath, ...args], {
      cwd: harness.dir, env: { ...process.env, HOME: harness.dir }, timeout: runtimeClusterLimits.kubectlMs, maxBuffer: 16 * 1024 * 1024,
    }, (error, stdout, stderr) => done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }));
    child.stdin?.end(input ?? '');
  });
  const logTail = (lines = 30): string => agents.map((a) => {
    try {
      return `--- ${a.name}:\n${readFileSync(a.log, 'utf8').split('\n').slice(-lines).join('\n')}`;
    } catch {
      return `--- ${a.name}: (no log)`;
    }
  }).join('\n');
  const waitNodeReady = async (name: string, sinceMs: number): Promise<void> => {
    await waitUntil(`node ${name} Ready with a Lease renewed since its start`, async () => {
      const node = await kubectl(['get', 'node', name, '-o', 'json']);
      const lease = await kubectl(['get', 'lease', name, '-n', 'kube-node-lease', '-o', 'jsonpath={.spec.renewTime}']);
      if (node.code !== 0 || lease.code !== 0) return false;
      const ready = (JSON.parse(node.stdout) as Node).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
      return ready && Date.parse(lease.stdout) >= sinceMs;
    }, { timeoutMs: runtimeClusterLimits.agentReadyMs, intervalMs: 500 }).catch((error: Error) => {
      throw new Error(`${error.message}\n${logTail()}`);
    });
  };

  const stop = async (): Promise<void> => {
    for (const agent of agents) if (agent.pid > 0 && alive(agent.pid)) process.kill(agent.pid, 'SIGTERM');
    for (const agent of agents) {
      if (agent.pid <= 0) continue;
      await waitUntil(`agent ${agent.name} stopped`, () => !alive(agent.pid), { timeoutMs: runtimeClusterLimits.agentStopMs, intervalMs: 200 }).catch(() => {
        if (alive(agent.pid)) process.kill(agent.pid, 'SIGKILL');
      });
    }
    // What outlives a stopped agent by design: its private containerd (cri), or labelled containers (docker).
    for (const agent of agents) {
      if (runtime === 'cri') await stopPrivateContainerd(agent.dir, { removePods: true }).catch(() => undefined);
      else removeDockerLeftovers(agent.dir);
    }
    await harness.stop();
  };

  try {
    const bootstrap = newBootstrapToken(new Date(Date.now() + 30 * 60_000));
    const created = await callAs(harness, 'POST', '/api/v1/namespaces/kube-system/secrets', { token: harness.token, body: bootstrap.secret });
    if (created.status !== 201) throw new Error(`bootstrap token secret: HTTP ${created.status}`);
    const sinceMs = Date.now() - 1_000;
    agents.forEach((agent, i) => {
      agent.pid = spawnAgent(agent, [...agentArgs(runtime, agent, i + 1), '--server', harness.url, '--token', bootstrap.token, '--ca-cert-hash', caCertHash(harness.caCertPem)]);
    });
    for (const agent of agents) await waitNodeReady(agent.name, sinceMs);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    harness, agents, kubectl, logTail, stop,
    kubectlStream(args) {
      const child = spawn('kubectl', ['--kubeconfig', harness.kubeconfigPath, ...args], { cwd: harness.dir, env: { ...process.env, HOME: harness.dir }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
      return { child, output: () => out };
    },
    async killAgent(name) {
      const agent = agents.find((a) => a.name === name);
      if (agent === undefined) throw new Error(`no agent ${name}`);
      process.kill(agent.pid, 'SIGKILL');
      await waitUntil(`agent ${name} (pid ${agent.pid}) gone`, () => !alive(agent.pid), { timeoutMs: 10_000, intervalMs: 100 });
    },
    async restartAgent(name) {
      const index = agents.findIndex((a) => a.name === name);
      const agent = agents[index];
      if (agent === undefined) throw new Error(`no agent ${name}`);
      // No slack here: the killed agent may have renewed its Lease just before; only a later renewal is the new agent's.
      const sinceMs = Date.now();
      agent.pid = spawnAgent(agent, agentArgs(runtime, agent, index + 1));
      await waitNodeReady(name, sinceMs);
    },
  };
}

/** The docker runtime labels what it makes with its owner (a hash of the agent's dir): remove what an agent left. */
function removeDockerLeftovers(agentDir: string): void {
  const listed = spawnSync('docker', ['ps', '-aq', '--filter', `label=io.kubus.docker.owner=${dockerOwnerOf(agentDir)}`], { encoding: 'utf8', timeout: 20_000 });
  const ids = (listed.stdout ?? '').split('\n').map((id) => id.trim()).filter((id) => id !== '');
  if (ids.length > 0) spawnSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore', timeout: 60_000 });
}
