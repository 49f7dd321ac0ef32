/**
 * The worker side of `kubus up --agents N`: each agent is a separate `kubus agent` process that
 * joins exactly as a real host would (bootstrap token, CA pinned by its hash, CSR, its own NATS
 * user), started after the control plane is ready and recorded in cluster.json; `up` then waits
 * for their Nodes to be Ready and prints the command line a real host would run to join.
 *
 * Also the admin view of Nodes for `up` and `status`: the API over NATS as kubus-admin.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { NatsBus, SystemClock, loadNatsCredentials, natsCredentialsLimits } from '../../../bus/index.js';
import { KubusError } from '../../../bus/errors.js';
import { NatsApiClient, refs, type ApiClient } from '../../controllers/runtime/index.js';
import { adminUser } from '../../apiserver/credentials.js';
import { parseTokenFile } from '../../apiserver/tokens.js';
import { isConditionTrue } from '../../objects/conditions.js';
import { caCertHash } from '../../../nodeagent/join/ca-pin.js';
import type { ClusterFile, ClusterProcess } from './cluster-file.js';
import { agentNetworkArgs } from './up-network.js';
import { agentRuntimeArgs, type RuntimeChoice } from './up-runtime.js';
import type { RuntimeName } from '../../../nodeagent/runtime/index.js';

export class UpAgentsError extends KubusError {
  override readonly name = 'UpAgentsError';
  readonly code = 'upAgents';
}

export type AgentRuntime = RuntimeName;

export const agentLimits = {
  /** Join (CSR, credentials), NATS connect, registration and the first status on a loaded 2-core machine. */
  readyTimeoutMs: 90_000,
  /** kubeadm's default bootstrap token lifetime: long enough to add hosts today, short if it leaks. */
  bootstrapTokenTtl: '24h',
  /** A request to the API that a stopped member took is given up on after this; the next poll asks again. */
  apiRequestTimeoutMs: 5_000,
} as const;

/**
 * `up`'s members judge a Node dead after 8 s without a renew (--node-monitor-grace-period, up.ts):
 * the agents renew every 2 s, so three renews may be lost before a Node goes Unknown (Kubernetes:
 * 10 s renew against 40 s grace, the same ratio). Each node's address is its own loopback address
 * (up-network.ts): a local cluster never depends on this machine's LAN address (which changes with
 * the network it is on).
 */
export const localAgentArgs = ['--node-lease-renew-interval', '2s', '--drain-on-stop'] as const;

export const agentName = (cluster: string, index: number): string => `${cluster}-agent-${index}`;

/** `sha256:<hex>` of the cluster CA's public key, the pin `kubus agent --ca-cert-hash` checks. */
export function clusterCaHash(dir: string): string {
  return caCertHash(readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8'));
}

/** A bootstrap token, made by the code behind `kubus token create --bootstrap` (run as that command, so the two never differ). */
export function createBootstrapToken(cliArgv: readonly string[], dir: string): string {
  const [command, ...args] = cliArgv as [string, ...string[]];
  const run = spawnSync(command, [...args, 'token', 'create', '--bootstrap', '--ttl', agentLimits.bootstrapTokenTtl, '--dir', dir], { encoding: 'utf8', timeout: 60_000 });
  const token = run.stdout.trim();
  if (run.status !== 0 || !/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(token)) {
    throw new UpAgentsError(`could not create a bootstrap token for the agents (exit ${run.status}): ${run.stderr.trim() || run.stdout.trim()}`);
  }
  return token;
}

/** The agent's argv: `kubus agent` with exactly the flags a real host gets. */
export function agentArgs(input: { server: string; token: string; caHash: string; name: string; dir: string; runtime: AgentRuntime }): string[] {
  return ['agent', '--server', input.server, '--token', input.token, '--ca-cert-hash', input.caHash, '--name', input.name, '--dir', input.dir, '--runtime', input.runtime];
}

/**
 * Agents to add so the cluster has `wanted` (those recorded stay; never fewer). `up`-started agents
 * drain on stop, so `kubus down` leaves no pod processes behind on this machine. Agent i gets node
 * address 127.32.0.<i> and its cluster DNS there, on port 53 when `privileged` (up-network.ts).
 */
export function planAgents(file: ClusterFile, wanted: number, input: { dir: string; cliArgv: readonly string[]; token: () => string; runtime: AgentRuntime; criSocket?: RuntimeChoice['criSocket']; privileged: boolean }): ClusterProcess[] {
  const have = file.processes.filter((p) => p.role === 'agent').length;
  if (wanted <= have) return [];
  const server = file.processes.find((p) => p.apiUrl !== undefined)?.apiUrl;
  if (server === undefined) throw new UpAgentsError('no member with an API URL in cluster.json; agents have nothing to join');
  const token = input.token();
  const caHash = clusterCaHash(input.dir);
  return Array.from({ length: wanted - have }, (_, i) => {
    const index = have + i + 1;
    const name = agentName(file.cluster, index);
    return {
      role: 'agent', id: name, pid: 0, dataDir: join(input.dir, 'agents', name), log: join(input.dir, 'logs', `${name}.log`),
      argv: [
        ...input.cliArgv, ...agentArgs({ server, token, caHash, name, dir: join(input.dir, 'agents', name), runtime: input.runtime }), ...localAgentArgs,
        ...agentNetworkArgs(index, input.privileged), ...agentRuntimeArgs(index, { runtime: input.runtime, ...(input.criSocket !== undefined ? { criSocket: input.criSocket } : {}) }),
      ],
    };
  });
}

/**
 * What a real host runs to join: the CA pin in full, and a fresh bootstrap token made by the
 * command substitution (so no token lands in terminal scrollback or logs).
 */
export function joinCommandLine(file: ClusterFile, dir: string, shownDir: string): string {
  const server = file.processes.find((p) => p.apiUrl !== undefined)?.apiUrl ?? 'https://<member>:<port>';
  return `kubus agent --server ${server} --token $(kubus token create --bootstrap --dir ${shownDir}) --ca-cert-hash ${clusterCaHash(dir)} --name <node> --dir /var/lib/kubus-agent`;
}

/** Runs `body` with the API over NATS as kubus-admin (the admin token of tokens.csv, a minted admin NATS user). */
export async function withAdminApi<T>(dir: string, file: ClusterFile, body: (api: ApiClient) => Promise<T>): Promise<T> {
  const tokens = parseTokenFile(readFileSync(join(dir, 'tokens.csv'), 'utf8'), join(dir, 'tokens.csv'));
  const token = [...tokens].find(([, user]) => user.name === adminUser.name)?.[0];
  if (token === undefined) throw new UpAgentsError(`${join(dir, 'tokens.csv')} has no ${adminUser.name} token`);
  const user = await loadNatsCredentials(dir).mintAdmin(file.cluster, { ttlMs: natsCredentialsLimits.adminTtlMs, nowMs: Date.now() });
  const bus = await NatsBus.connect({ servers: [file.natsUrl], name: 'kubus-cli', user, connectTimeoutMs: 5_000, reconnect: false });
  try {
    return await body(new NatsApiClient({ bus, cluster: file.cluster, token, clock: new SystemClock(), inboxOwner: 'kubus-cli', requestTimeoutMs: agentLimits.apiRequestTimeoutMs }));
  } finally {
    await bus.close();
  }
}

export interface NodeRow {
  readonly name: string;
  readonly ready: boolean;
  readonly pods: number;
  readonly ageSeconds: number;
}

export async function nodeRows(api: ApiClient, nowMs: number): Promise<NodeRow[]> {
  const [nodes, pods] = await Promise.all([api.list<Node>(refs.nodes), api.list<Pod>(refs.pods)]);
  const perNode = new Map<string, number>();
  for (const pod of pods.items) {
    const node = pod.spec?.nodeName;
    const done = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    if (node !== undefined && !done) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  return nodes.items.map((node) => ({
    name: node.metadata?.name ?? '',
    ready: isConditionTrue(node.status?.conditions, 'Ready'),
    pods: perNode.get(node.metadata?.name ?? '') ?? 0,
    ageSeconds: Math.max(0, Math.floor((nowMs - Date.parse(node.metadata?.creationTimestamp ?? new Date(nowMs).toISOString())) / 1000)),
  })).sort((a, b) => a.name.localeCompare(b.name));
}

/** kubectl's age: `45s`, `12m`, `5h`, `3d`. */
export function formatAge(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7_200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3_600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** Names of the nodes whose Lease was renewed at or after `sinceMs` (wall time; agents and this command share the host's clock). */
async function renewedSince(api: ApiClient, sinceMs: number): Promise<Set<string>> {
  const leases = await api.list<Lease>(refs.leases, { namespace: 'kube-node-lease' });
  return new Set(leases.items.filter((l) => Date.parse(l.spec?.renewTime ?? '') >= sinceMs).map((l) => l.metadata?.name ?? ''));
}

/**
 * Polls until every named Node is Ready and its Lease was renewed by the agent just started (a
 * restarted cluster still shows the Ready its Nodes had before: that alone proves nothing);
 * `progress` gets a line whenever the count changes.
 */
export async function waitForNodesReady(dir: string, file: ClusterFile, names: readonly string[], sinceMs: number, progress: (line: string) => void): Promise<void> {
  const deadline = Date.now() + agentLimits.readyTimeoutMs;
  let last = '';
  await withAdminApi(dir, file, async (api) => {
    for (;;) {
      const [rows, renewed] = await Promise.all([nodeRows(api, Date.now()), renewedSince(api, sinceMs)]).catch(() => [[] as NodeRow[], new Set<string>()] as const);
      const ready = names.filter((name) => renewed.has(name) && rows.some((row) => row.name === name && row.ready));
      if (ready.length === names.length) return;
      const line = `${ready.length}/${names.length} nodes Ready`;
      if (line !== last) progress(line);
      last = line;
      if (Date.now() > deadline) {
        const missing = names.filter((name) => !ready.includes(name));
        throw new UpAgentsError(`not Ready within ${agentLimits.readyTimeoutMs / 1000} s: ${missing.join(', ')}; see ${missing.map((name) => join(dir, 'logs', `${name}.log`)).join(', ')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  });
}
