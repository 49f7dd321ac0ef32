/**
 * A fleet of real `kubus agent --runtime hollow --hollow-nodes K` processes for the node-scale
 * benchmark: each process hosts K whole agents (own identity, CSR, NATS user and connection, Node,
 * Lease, assignment client, pod manager), only the containers simulated. Joined the way a real host
 * joins: a bootstrap token created through the API and the CA's pinned hash.
 *
 * Also probe Leases: the bench renews a few Leases of its own beside the fleet, every second, and
 * times them, since the agents' own renewals are timed inside their processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node } from 'kubernetes-types/core/v1.js';
import { newBootstrapToken } from '../../actors/apiserver/authn/index.js';
import { isAlreadyExists, microTime, refs } from '../../actors/controllers/runtime/index.js';
import { caCertHash } from '../../nodeagent/index.js';
import type { ApiHarness } from '../../test/apiserver/harness.js';
import { adminApi } from '../../test/support/control-plane.js';
import { keepOutputTail, stopChildren } from './child-processes.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export const agentFleetLimits = {
  /** How long the fleet may take to have every Node Ready (joins are ~6 writes each). */
  readyDeadlineMs: 30 * 60_000,
  /** A stopping agent process gets this long after SIGTERM before SIGKILL. */
  stopGraceMs: 15_000,
  /** Probe Leases renewed by the bench beside the fleet. */
  probeLeases: 20,
  probeIntervalMs: 1_000,
  /** Lines of an agent process's output kept to explain its exit. */
  outputTailLines: 30,
} as const;

export interface AgentFleet {
  readonly names: readonly string[];
  readonly pids: () => number[];
  stop(): Promise<void>;
}


/** Every Node, in pages (thousands in one reply would pass NATS's max payload). */
async function readyNodes(h: ApiHarness): Promise<Node[]> {
  const items: Node[] = [];
  let next: string | undefined;
  do {
    const page = await adminApi(h).list<Node>(refs.nodes, { limit: 500, ...(next !== undefined ? { continue: next } : {}) });
    items.push(...page.items);
    next = page.continue === '' ? undefined : page.continue;
  } while (next !== undefined);
  return items;
}

/** Starts ceil(nodes / perProcess) agent processes and waits for all their Nodes to be Ready. */
export interface AgentFleetOptions {
  readonly nodes: number;
  readonly perProcess: number;
  readonly prefix: string;
  readonly dir: string;
  /** One plain agent (`--runtime process`, no --hollow-nodes) named `prefix`: the real agent's footprint. */
  readonly single?: boolean;
  readonly progress: (line: string) => void;
}

export async function startAgentFleet(h: ApiHarness, options: AgentFleetOptions): Promise<AgentFleet> {
  const bootstrap = newBootstrapToken(new Date(Date.now() + 3 * 60 * 60_000));
  await adminApi(h).create(refs.secrets, 'kube-system', bootstrap.secret);
  const pin = caCertHash(h.caCertPem);
  const servers = [...h.urls.values()];
  const children: ChildProcess[] = [];
  const tails = new Map<ChildProcess, string[]>();
  const names: string[] = [];
  mkdirSync(options.dir, { recursive: true });
  const spawnProcess = (k: number): void => {
    const count = Math.min(options.perProcess, options.nodes - k * options.perProcess);
    const base = options.single === true ? options.prefix : `${options.prefix}${k}`;
    if (options.single === true) names.push(base);
    else for (let i = 0; i < count; i++) names.push(`${base}-${i}`);
    const args = ['--import', 'tsx', join(repoRoot, 'actors/cli/main.ts'), 'agent', '--server', servers[k % servers.length] ?? h.url, '--token', bootstrap.token, '--ca-cert-hash', pin,
      '--name', base, '--dir', join(options.dir, base), '--log-level', 'warn',
      ...(options.single === true ? ['--runtime', 'process'] : ['--runtime', 'hollow', '--hollow-nodes', String(count)])];
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(join(options.dir, `${base}.log`));
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    // The last lines of its output, to say why it exited (the log file goes with the harness dir).
    tails.set(child, keepOutputTail(child, agentFleetLimits.outputTailLines));
    children.push(child);
  };
  const stop = async (): Promise<void> => {
    await stopChildren(children, agentFleetLimits.stopGraceMs);
  };
  const started = Date.now();
  let lastReport = 0;
  /** Until every Node named so far is Ready; throws when a process exits or past the deadline. */
  const waitReady = async (): Promise<void> => {
    const wanted = new Set(names);
    for (;;) {
      const dead = children.find((c) => c.exitCode !== null);
      if (dead !== undefined) throw new Error(`an agent process exited with ${dead.exitCode}; its last output:\n${(tails.get(dead) ?? []).join('\n')}`);
      const items = await readyNodes(h).catch(() => [] as Node[]);
      const ready = items.filter((n) => wanted.has(n.metadata?.name ?? '') && n.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True').length;
      if (ready === wanted.size) return;
      if (Date.now() - started > agentFleetLimits.readyDeadlineMs) throw new Error(`only ${ready}/${wanted.size} agent Nodes Ready after ${agentFleetLimits.readyDeadlineMs / 1000} s`);
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        options.progress(`  ${ready}/${wanted.size} agent Nodes Ready after ${Math.round((Date.now() - started) / 1000)} s`);
      }
      await new Promise((done) => setTimeout(done, 2_000)); // a sampling period
    }
  };
  try {
    // One process joining at a time: each joins 16 nodes at once, and two or more at once made a loaded store lose quorum (a failed join ends its process).
    for (let k = 0; k * options.perProcess < options.nodes && (options.single !== true || k === 0); k++) {
      spawnProcess(k);
      await waitReady();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  options.progress(`  ${names.length} agent Nodes Ready after ${Math.round((Date.now() - started) / 1000)} s`);
  return { names, pids: () => children.flatMap((c) => (c.pid !== undefined && c.exitCode === null ? [c.pid] : [])), stop };
}

/** Renews `probeLeases` Leases of the bench's own every second and times each renewal. */
export async function startProbeLeases(h: ApiHarness): Promise<{ take(): { latenciesMs: number[]; failures: number }; stop(): void }> {
  const api = adminApi(h);
  const leases = new Map<string, Lease>();
  for (let i = 0; i < agentFleetLimits.probeLeases; i++) {
    const name = `bench-probe-${i}`;
    const lease: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime(new Date()) } };
    leases.set(name, await api.create<Lease>(refs.leases, 'kube-node-lease', lease).catch(async (error: unknown) => {
      if (isAlreadyExists(error)) return api.get<Lease>(refs.leases, 'kube-node-lease', name);
      throw error;
    }));
  }
  let figures = { latenciesMs: [] as number[], failures: 0 };
  const timer = setInterval(() => {
    for (const [name, lease] of leases) {
      const begun = performance.now();
      void api.update<Lease>(refs.leases, 'kube-node-lease', name, { ...lease, spec: { ...lease.spec, renewTime: microTime(new Date()) } })
        .then((next) => {
          leases.set(name, next);
          figures.latenciesMs.push(performance.now() - begun);
        }, async () => {
          figures.failures++;
          leases.set(name, await api.get<Lease>(refs.leases, 'kube-node-lease', name).catch(() => lease));
        });
    }
  }, agentFleetLimits.probeIntervalMs);
  return {
    take() {
      const taken = figures;
      figures = { latenciesMs: [], failures: 0 };
      return taken;
    },
    stop: () => clearInterval(timer),
  };
}
