/**
 * `kubus up`: a local multi-process store cluster. Starts a nats-server and N members as detached
 * OS processes on loopback, records them in `D/cluster.json`, waits for an elected leader that
 * every member agrees on, and returns leaving them running. On an existing dir it restarts the
 * same cluster with its data. Every member serves the Kubernetes API.
 *
 * The bus is closed: the directory holds the cluster's NATS keys (`nats/`), nats.conf runs the
 * server in operator mode, each member mints its own NATS user from the keys, and so does every
 * later `kubus` command given this --dir. The directory is 0700 and what it holds 0600 (umask).
 *
 * With `--agents N` it then starts N worker agents (up-agents.ts), each joining as a real host
 * would, and waits for their Nodes to be Ready; pod CIDRs come from a loopback range so the
 * process runtime's pods each get an address without any network setup.
 *
 * Services (issue 12): members allocate ClusterIPs and NodePorts from loopback ranges and run the
 * cloud controller manager with the `local` provider (load balancers on loopback; `--no-cloud-provider`
 * leaves it out); each agent has its own node address, serves NodePorts there and ClusterIPs on
 * loopback through its service proxy, and runs the cluster DNS on its node address. The plan and
 * why: up-network.ts. `up` prints the ranges it chose.
 */
import { spawn, spawnSync } from 'node:child_process';
import { get as httpsGet } from 'node:https';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../bus/index.js';
import type { MemberStatus } from '../../../store/index.js';
import { ensureClusterCredentials } from '../../apiserver/credentials.js';
import { kubeconfigYaml } from '../../apiserver/kubeconfig.js';
import { isAlive, readClusterFile, writeClusterFile, type ClusterFile, type ClusterProcess } from './cluster-file.js';
import { withStoreClient } from './store-connection.js';
import { writeNatsConfig } from './nats-config.js';
import { createBootstrapToken, joinCommandLine, planAgents, UpAgentsError, waitForNodesReady, type AgentRuntime } from './up-agents.js';
import { kubernetesServiceCertNames } from '../../apiserver/services/kubernetes-service.js';
import { chooseUpRuntime, ensureRuntimeReady, probeRuntimes, type RuntimeChoice } from './up-runtime.js';
import { runtimeNames } from '../../../nodeagent/runtime/index.js';
import { describeClusterAddresses, describeNodeAddresses, localAddressHeld, localAddressPlan, memberNetworkArgs, upCloudProvider, upNetworkLimits } from './up-network.js';

/** The same entry point that runs us: main.ts under tsx in development, main.js when built. */
const cliEntry = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../main.ts' : '../main.js', import.meta.url));
const upLimits = {
  /** Leader election plus process start-up (tsx compiles on first run) on a slow 2-core machine. */
  readyTimeoutMs: 60_000,
  natsReadyTimeoutMs: 10_000,
} as const;

/**
 * Faster than Kubernetes' defaults, for a local cluster where waiting 15 s for a new leader or
 * 40 s for a dead node is only waiting: lease 4 s / renew 3 s / retry 1 s, node grace 8 s.
 */
export const upControlPlaneArgs = [
  '--leader-elect-lease-duration', '4s', '--leader-elect-renew-deadline', '3s', '--leader-elect-retry-period', '1s',
  '--node-monitor-grace-period', '8s',
] as const;

export interface UpFlags {
  readonly servers: string;
  readonly dir: string;
  readonly cluster: string;
  /** Worker agents to run (`--agents`, default 0); those recorded already are restarted, never removed. */
  readonly agents?: string;
  readonly runtime?: string;
  /**
   * Members' `--cloud-provider` on a new cluster: absent or true → `local`; false → none
   * (`--no-cloud-provider`); a name → that provider. A recorded cluster keeps its members' flags.
   */
  readonly cloudProvider?: boolean | string;
}

export async function runUpCommand(flags: UpFlags): Promise<void> {
  const dir = resolve(flags.dir);
  const count = Number(flags.servers);
  if (![1, 3, 5].includes(count)) throw new Error(`--servers must be 1, 3 or 5 (an odd number keeps a majority), got "${flags.servers}"`);
  requireNatsServer();
  // Keys, tokens, logs and member data below: readable by this user only.
  process.umask(0o077);
  mkdirSync(join(dir, 'logs'), { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  let file = readClusterFile(dir);
  if (file !== null && file.members.length !== count) {
    throw new Error(`${dir} holds a ${file.members.length}-member cluster; use --servers ${file.members.length}, or another --dir`);
  }
  const agents = Number(flags.agents ?? '0');
  if (!Number.isInteger(agents) || agents < 0) throw new UpAgentsError(`--agents must be a whole number, got "${flags.agents}"`);
  if (agents > upNetworkLimits.agentsMax) throw new UpAgentsError(`--agents: a local cluster has node addresses for at most ${upNetworkLimits.agentsMax} agents, got ${agents}`);
  // A runtime is chosen (and said) only when agents are added; recorded agents keep the argv they were planned with.
  const runtime = await upRuntime(flags.runtime, agents > (file?.processes.filter((p) => p.role === 'agent').length ?? 0), join(dir, 'logs'));
  if (agents > 0 && (file === null || !file.processes.some((p) => p.role === 'agent' && isAlive(p.pid)))) {
    const held = await localAddressHeld(process.getuid?.() === 0);
    if (held !== null) {
      throw new UpAgentsError(`${held} is held by another process, most likely another local cluster: every \`kubus up\` cluster on a host uses the same loopback addresses, so only one runs at a time; stop the other one first (kubus down --dir <its dir>)`);
    }
  }
  if (file === null) file = await planCluster(dir, flags.cluster, count, upCloudProvider(flags.cloudProvider));
  for (const proc of file.processes.filter((p) => p.role !== 'agent')) {
    if (isAlive(proc.pid)) {
      say(`${proc.role} ${proc.id}: already running (pid ${proc.pid})`);
      continue;
    }
    if (proc.role === 'nats') await writeNatsConfig(dir, new URL(file.natsUrl).host);
    proc.pid = startDetached(proc);
    say(`${proc.role} ${proc.id}: started (pid ${proc.pid}), log ${proc.log}`);
    writeClusterFile(dir, file);
    if (proc.role === 'nats') await waitForPort(file.natsUrl, proc);
  }
  say('scheduler and controller manager run in every member, active where they hold their Lease; local timing: ' +
    'leader election lease 4s / renew 3s / retry 1s (Kubernetes: 15s/10s/2s), node monitor grace period 8s (Kubernetes: 40s)');
  say(`waiting for a leader (up to ${upLimits.readyTimeoutMs / 1000} s)`);
  const leader = await waitForLeader(dir, file);
  say(`leader: ${leader}; waiting for every API server to be ready`);
  await waitForReady(dir, file);
  say(`every member is ready. The cluster is up.`);
  say(describeClusterAddresses(file));
  await upAgents(dir, file, agents, runtime);
  if (file.kubeconfig !== undefined) say(`  kubectl --kubeconfig ${file.kubeconfig} get namespaces`);
  say(`join a worker host (run on it; the API address must be reachable from there): ${joinCommandLine(file, dir, flags.dir)}`);
  say(`  kubus status --dir ${flags.dir}`);
  say(`  kubus down --dir ${flags.dir}`);
}

async function planCluster(dir: string, cluster: string, count: number, cloudProvider: string | null): Promise<ClusterFile> {
  const natsPort = await freePort();
  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  const natsConfig = await writeNatsConfig(dir, `127.0.0.1:${natsPort}`);
  const members = Array.from({ length: count }, (_, i) => `s${i + 1}`);
  // Pods reach the API through the kubernetes Service (KUBERNETES_SERVICE_HOST): the certificate names it too.
  const credentials = await ensureClusterCredentials(dir, { hosts: ['127.0.0.1', 'localhost', ...kubernetesServiceCertNames(localAddressPlan.serviceClusterIpRange)] });
  const apiPorts = await Promise.all(members.map(() => freePort()));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, kubeconfigYaml({ clusterName: cluster, server: `https://127.0.0.1:${apiPorts[0]}`, caCertPem: credentials.caCertPem, token: credentials.adminToken, userName: 'kubus-admin' }), { mode: 0o600 });
  const processes: ClusterProcess[] = [
    { role: 'nats', id: 'nats', pid: 0, argv: ['nats-server', '-c', natsConfig], dataDir: null, log: join(dir, 'logs', 'nats.log') },
    ...members.map((id, i): ClusterProcess => ({
      role: 'server', id, pid: 0, dataDir: join(dir, id), log: join(dir, 'logs', `${id}.log`), apiUrl: `https://127.0.0.1:${apiPorts[i]}`,
      argv: [
        process.execPath, ...process.execArgv, cliEntry, 'server', '--id', id, '--data-dir', join(dir, id), '--nats', natsUrl, '--cluster', cluster,
        '--peers', members.join(','), '--api-port', String(apiPorts[i]), '--credentials-dir', dir, ...upControlPlaneArgs, ...memberNetworkArgs(cloudProvider),
      ],
    })),
  ];
  const file: ClusterFile = { cluster, natsUrl, members, processes, kubeconfig };
  writeClusterFile(dir, file);
  return file;
}

/** Starts the recorded agents (adding any `--agents` asks for beyond them) and waits for their Nodes. */
async function upAgents(dir: string, file: ClusterFile, wanted: number, runtime: RuntimeChoice): Promise<void> {
  // Port 53 (each node's cluster DNS) needs root; unprivileged agents use upNetworkLimits.dnsPortUnprivileged.
  const privileged = process.getuid?.() === 0;
  const added = planAgents(file, wanted, {
    dir, cliArgv: [process.execPath, ...process.execArgv, cliEntry], runtime: runtime.runtime, ...(runtime.criSocket !== undefined ? { criSocket: runtime.criSocket } : {}),
    token: () => createToken(dir), privileged,
  });
  file.processes.push(...added);
  writeClusterFile(dir, file);
  const agents = file.processes.filter((p) => p.role === 'agent');
  if (agents.length === 0) return;
  // Lease renewTime has millisecond precision or less; a second of slack for rounding.
  const sinceMs = Date.now() - 1_000;
  for (const proc of agents) {
    if (isAlive(proc.pid)) {
      say(`agent ${proc.id}: already running (pid ${proc.pid})`);
      continue;
    }
    mkdirSync(proc.dataDir as string, { recursive: true, mode: 0o700 });
    proc.pid = startDetached(proc);
    say(`agent ${proc.id}: started (pid ${proc.pid}), log ${proc.log}`);
    writeClusterFile(dir, file);
  }
  say(`waiting for ${agents.length} node${agents.length === 1 ? '' : 's'} to be Ready`);
  await waitForNodesReady(dir, file, agents.map((p) => p.id), sinceMs, say);
  say(`every node is Ready`);
  for (const line of describeNodeAddresses(file)) say(line);
}

/** `--runtime` as given, else the one this machine supports best (said with its reason); agents need one only when some are added. */
async function upRuntime(flag: string | undefined, needed: boolean, logDirectory: string): Promise<RuntimeChoice> {
  if (flag !== undefined) {
    if (!(runtimeNames as readonly string[]).includes(flag)) throw new UpAgentsError(`--runtime must be one of ${runtimeNames.join(', ')}, got "${flag}"`);
    if (needed) {
      say(`runtime ${flag} (--runtime)`);
      await ensureRuntimeReady(flag as AgentRuntime, { logDirectory, say });
    }
    return { runtime: flag as AgentRuntime, reason: '--runtime' };
  }
  if (!needed) return { runtime: 'process', reason: 'no agents added' };
  const choice = chooseUpRuntime(await probeRuntimes());
  say(`runtime ${choice.runtime}: ${choice.reason}`);
  return choice;
}

function createToken(dir: string): string {
  say('creating a bootstrap token for the agents (kubus token create --bootstrap)');
  return createBootstrapToken([process.execPath, ...process.execArgv, cliEntry], dir);
}

function startDetached(proc: ClusterProcess): number {
  const log = openSync(proc.log, 'a');
  try {
    const [command, ...args] = proc.argv as [string, ...string[]];
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${proc.role} ${proc.id}: ${command}`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

function requireNatsServer(): void {
  if (spawnSync('sh', ['-c', 'command -v nats-server'], { stdio: 'ignore' }).status === 0) return;
  if (process.getuid?.() === 0) {
    say('nats-server missing: installing it with apt-get');
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', 'nats-server'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (spawnSync('sh', ['-c', 'command -v nats-server'], { stdio: 'ignore' }).status === 0) return;
  }
  throw new Error('nats-server is required; install it: sudo apt-get install -y nats-server');
}

async function waitForPort(url: string, proc: ClusterProcess): Promise<void> {
  const { port } = new URL(url);
  const { connect } = await import('node:net');
  const deadline = Date.now() + upLimits.natsReadyTimeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((done) => {
      const socket = connect({ host: '127.0.0.1', port: Number(port) }, () => (socket.destroy(), done(true)));
      socket.once('error', () => done(false));
    });
    if (ok) return;
    if (!isAlive(proc.pid)) throw new Error(`nats-server exited at start-up; its log ${proc.log} says:\n${tail(proc.log)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nats-server did not accept connections on ${url} within ${upLimits.natsReadyTimeoutMs / 1000} s; see ${proc.log}`);
}

async function waitForLeader(dir: string, file: ClusterFile): Promise<string> {
  return withStoreClient({ nats: file.natsUrl, cluster: file.cluster, peers: file.members.join(','), credentialsDir: dir }, async (client, members) => {
    const deadline = Date.now() + upLimits.readyTimeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const statuses = await Promise.all(members.map((id) => client.status(id, { timeoutMs: 1_000 }).catch(() => null)));
      const up = statuses.filter((s): s is MemberStatus => s !== null);
      const leader = up.find((s) => s.role === 'leader');
      if (leader !== undefined && up.length === members.length && up.every((s) => s.leader === leader.id)) return leader.id;
      const line = `${up.length}/${members.length} members answering, leader: ${leader?.id ?? 'none yet'}`;
      if (line !== last) say(line);
      last = line;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`no leader agreed by every member within ${upLimits.readyTimeoutMs / 1000} s; see the logs in ${join(file.processes[1]?.log ?? '', '..')}`);
  });
}

/** Polls each member's `/readyz` over HTTPS, trusting the cluster CA, until all say ok. */
async function waitForReady(dir: string, file: ClusterFile): Promise<void> {
  const ca = readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8');
  const urls = file.processes.flatMap((proc) => (proc.apiUrl === undefined ? [] : [proc.apiUrl]));
  const deadline = Date.now() + upLimits.readyTimeoutMs;
  const pending = new Set(urls);
  while (pending.size > 0) {
    for (const url of [...pending]) if (await readyz(url, ca)) pending.delete(url);
    if (pending.size === 0) return;
    if (Date.now() > deadline) throw new Error(`not ready within ${upLimits.readyTimeoutMs / 1000} s: ${[...pending].join(', ')}; see the logs in ${join(dir, 'logs')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function readyz(url: string, ca: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = httpsGet(`${url}/readyz`, { ca, timeout: 1_000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on('error', () => resolve(false));
    request.on('timeout', () => request.destroy());
  });
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-5).join('\n');
  } catch {
    return '(no log)';
  }
}

function say(line: string): void {
  process.stdout.write(`kubus up: ${line}\n`);
}
