/**
 * The pod-startup bench's workers: `count` real `kubus agent --runtime <r>` processes joined to an
 * API harness (3 member processes on free ports) with a bootstrap token and the CA's pinned hash,
 * as a real host joins. Unlike `kubus up`, nothing here takes a fixed loopback address (no cluster
 * DNS, no service proxy), so the bench runs beside another local cluster.
 *
 * Clean-up: the agents run with --drain-on-stop (docker pods are removed on SIGTERM); a cri agent's
 * private containerd outlives it by design, so it is stopped with its pods afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node } from 'kubernetes-types/core/v1.js';
import { newBootstrapToken } from '../../actors/apiserver/authn/index.js';
import { refs } from '../../actors/controllers/runtime/index.js';
import { freePort } from '../../bus/index.js';
import { caCertHash } from '../../nodeagent/index.js';
import { stopPrivateContainerd } from '../../nodeagent/runtime/cri/index.js';
import { keepOutputTail, stopChildren } from './child-processes.js';
import type { ApiHarness } from '../../test/apiserver/harness.js';
import { adminApi } from '../../test/support/control-plane.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export const podAgentLimits = {
  /** Joining, opening the runtime (cri: a private containerd and image imports) and Ready. */
  readyDeadlineMs: 300_000,
  /** A stopping agent gets this long after SIGTERM (it drains its pods) before SIGKILL. */
  stopGraceMs: 60_000,
  /** How often the Nodes are read while waiting for Ready (a sampling period). */
  pollMs: 1_000,
  outputTailLines: 20,
} as const;

export interface BenchAgents {
  readonly names: readonly string[];
  /** `/metrics` URLs of the agents (empty when `kubus agent` has no --metrics-address yet). */
  readonly metricsUrls: readonly string[];
  stop(): Promise<void>;
}

/** Whether `kubus agent` has `--metrics-address` (issue 13; added by the CLI's owner). */
function agentHasMetricsAddress(): boolean {
  const help = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'actors/cli/main.ts'), 'agent', '--help'], { encoding: 'utf8', timeout: 60_000, cwd: repoRoot });
  return `${help.stdout}${help.stderr}`.includes('--metrics-address');
}


export async function startBenchAgents(h: ApiHarness, options: { readonly runtime: string; readonly count: number; readonly dir: string; readonly progress: (line: string) => void }): Promise<BenchAgents> {
  const bootstrap = newBootstrapToken(new Date(Date.now() + 60 * 60_000));
  await adminApi(h).create(refs.secrets, 'kube-system', bootstrap.secret);
  const pin = caCertHash(h.caCertPem);
  const withMetrics = agentHasMetricsAddress();
  mkdirSync(options.dir, { recursive: true });
  const children: ChildProcess[] = [];
  const tails = new Map<ChildProcess, string[]>();
  const names: string[] = [];
  const dirs: string[] = [];
  const metricsUrls: string[] = [];
  for (let i = 0; i < options.count; i++) {
    const name = `bench-${options.runtime}-${i}`;
    const dir = join(options.dir, name);
    names.push(name);
    dirs.push(dir);
    const metricsPort = withMetrics ? await freePort() : 0;
    if (withMetrics) metricsUrls.push(`http://127.0.0.1:${metricsPort}/metrics`);
    const args = ['--import', 'tsx', join(repoRoot, 'actors/cli/main.ts'), 'agent', '--server', [...h.urls.values()][i % h.urls.size] ?? h.url,
      '--token', bootstrap.token, '--ca-cert-hash', pin, '--name', name, '--dir', dir, '--runtime', options.runtime, '--node-ip', '127.0.0.1',
      '--no-cluster-dns', '--no-service-proxy', '--drain-on-stop', '--log-level', 'warn', ...(withMetrics ? ['--metrics-address', `127.0.0.1:${metricsPort}`] : [])];
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(join(options.dir, `${name}.log`));
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    tails.set(child, keepOutputTail(child, podAgentLimits.outputTailLines));
    children.push(child);
  }
  const stop = async (): Promise<void> => {
    await stopChildren(children, podAgentLimits.stopGraceMs);
    if (options.runtime === 'cri') for (const dir of dirs) await stopPrivateContainerd(dir, { removePods: true }).catch(() => undefined);
  };
  const started = Date.now();
  try {
    for (;;) {
      const dead = children.find((c) => c.exitCode !== null);
      if (dead !== undefined) throw new Error(`an agent exited with ${dead.exitCode}: ${(tails.get(dead) ?? []).slice(-5).join(' | ')}`);
      const nodes = await adminApi(h).list<Node>(refs.nodes).catch(() => ({ items: [] as Node[] }));
      const ready = nodes.items.filter((n) => names.includes(n.metadata?.name ?? '') && n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true);
      if (ready.length === names.length) break;
      if (Date.now() - started > podAgentLimits.readyDeadlineMs) throw new Error(`only ${ready.length}/${names.length} agents Ready after ${podAgentLimits.readyDeadlineMs / 1000} s`);
      await new Promise((done) => setTimeout(done, podAgentLimits.pollMs));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  options.progress(`  ${names.length} ${options.runtime} agents Ready after ${Math.round((Date.now() - started) / 1000)} s${withMetrics ? '' : ' (kubus agent has no --metrics-address yet: no agent-side figures)'}`);
  return { names, metricsUrls, stop };
}
