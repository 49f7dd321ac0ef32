/**
 * The Node part's I/O steps, each one call of the machine (node-machine.ts): register (create, or
 * take over an existing Node) and one status pass (read the host and the runtime, decide, write
 * when due, learn the pod CIDR). Each returns what the machine keeps; failures throw the API's
 * typed errors and the machine retries.
 */
import type { Node, NodeCondition } from 'kubernetes-types/core/v1.js';
import { isAlreadyExists } from '../../actors/controllers/runtime/api-errors.js';
import { refs } from '../../actors/controllers/runtime/resource-refs.js';
import { rfc3339Seconds } from '../../actors/objects/timestamps.js';
import type { Clock } from '../../bus/clock.js';
import type { AgentContext, NodeConfig } from '../agent-context.js';
import type { ContainerRuntime, RuntimeStatus } from '../runtime/types.js';
import { readHostFacts, readHostReadings } from './host.js';
import { decidePressures, type HostReadings } from './host-readings.js';
import { writeNodeCheckpoint } from './node-checkpoint.js';
import { addressesToReport, defaultKubeletVersion, newNode, nodeConditions, nodeStatusOf, takeoverPatch, type NodeFacts } from './node-object.js';
import { decideStatusReport, statusSignature, type LastReport } from './status-decision.js';
import { podNetworkLabel } from '../tunnel/types.js';

export interface NodeDeps {
  readonly ctx: AgentContext;
  readonly config: NodeConfig;
  readonly runtime: ContainerRuntime;
  /** Tests replace the host. */
  readonly readHost?: (dir: string, nowMs: number) => HostReadings;
}

/** Bounded: a runtime that hangs must not stop the heartbeat's status pass. */
const runtimeStatusTimeoutMs = 5_000;

async function runtimeStatus(runtime: ContainerRuntime, clock: Clock): Promise<RuntimeStatus | null> {
  let timer = -1;
  const late = new Promise<null>((resolve) => (timer = clock.setTimeout(() => resolve(null), runtimeStatusTimeoutMs)));
  try {
    return await Promise.race([runtime.status().catch(() => null), late]);
  } finally {
    clock.clearTimeout(timer);
  }
}

export async function gatherFacts(deps: NodeDeps): Promise<NodeFacts> {
  const version = await deps.runtime.version();
  return {
    nodeName: deps.ctx.nodeName, host: readHostFacts(deps.ctx.dir), nodeIp: deps.config.nodeIp,
    runtime: { name: version.runtimeName, version: version.runtimeVersion }, kubeletVersion: defaultKubeletVersion,
    maxPods: deps.config.maxPods, systemReserved: deps.config.systemReserved, labels: { [podNetworkLabel]: deps.config.services.podNetwork, ...deps.config.labels }, taints: deps.config.taints,
  };
}

export const podCidrOf = (node: Node | null): string | null => node?.spec?.podCIDR ?? null;

function checkpoint(deps: NodeDeps, node: Node): void {
  writeNodeCheckpoint(deps.ctx.dir, { nodeName: deps.ctx.nodeName, uid: node.metadata?.uid ?? null, podCidr: podCidrOf(node) });
}

/** Creates the Node, or takes an existing one over (our labels patched, others' changes kept). */
export async function registerNode(deps: NodeDeps, facts: NodeFacts): Promise<Node> {
  const { api, logger } = deps.ctx;
  const enforced = (await runtimeStatus(deps.runtime, deps.ctx.clock))?.resourceLimitsEnforced ?? false;
  let node: Node;
  try {
    node = await api.create<Node>(refs.nodes, undefined, newNode(facts, enforced));
    logger.info('node registered', { node: facts.nodeName });
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
    node = await api.get<Node>(refs.nodes, undefined, facts.nodeName);
    const { patch, taintsDiffer } = takeoverPatch(node, facts, enforced);
    if (patch !== null) node = await api.patch<Node>(refs.nodes, undefined, facts.nodeName, patch, 'merge');
    if (taintsDiffer) {
      logger.warn('the Node exists with other taints than --taints; a node may not change its own taints: set them with kubectl taint', { node: facts.nodeName, wanted: facts.taints });
    }
    logger.info('node taken over (it existed)', { node: facts.nodeName });
  }
  checkpoint(deps, node);
  return node;
}

export interface StatusState {
  /** The Node as last read or written (its status is what the API holds, as far as we know). */
  readonly node: Node;
  readonly lastReport: LastReport | null;
  /** Monotonic time of the last read of our own Node. */
  readonly lastReadMs: number;
}

/**
 * The own Node is read (not just written) at this bound, or sooner when the pod CIDR is unknown
 * or the Lease had failed: the control plane writes it too (node lifecycle sets Ready Unknown
 * when the Lease expires; IPAM sets spec.podCIDR), and the status decision compares with what
 * the API holds. Once a minute is 83 reads/s at 5,000 nodes, against 500/s for every 10 s.
 */
export const nodeReadIntervalMs = 60_000;

/** One status pass: measure, decide, write when due. */
export async function statusPass(deps: NodeDeps, facts: NodeFacts, state: StatusState, options: { readonly mustRead: boolean }): Promise<StatusState> {
  const { api, clock, wallClock } = deps.ctx;
  const nowMs = clock.now();
  let { node, lastReadMs } = state;
  let lastReport = state.lastReport;
  if (options.mustRead || podCidrOf(node) === null || nowMs - lastReadMs >= nodeReadIntervalMs) {
    const before = podCidrOf(node);
    node = await api.get<Node>(refs.nodes, undefined, deps.ctx.nodeName);
    lastReadMs = nowMs;
    // What the API holds differs from what we wrote (someone else wrote the status): compare afresh.
    if (lastReport !== null && statusSignature(node.status ?? {}) !== lastReport.signature) lastReport = { signature: statusSignature(node.status ?? {}), atMs: lastReport.atMs };
    if (podCidrOf(node) !== before) checkpoint(deps, node);
  }
  const readings = (deps.readHost ?? readHostReadings)(deps.ctx.dir, nowMs);
  const conditions: NodeCondition[] = nodeConditions(node.status?.conditions, await runtimeStatus(deps.runtime, deps.ctx.clock), decidePressures(readings), rfc3339Seconds(wallClock().getTime()));
  const own = nodeStatusOf(facts, conditions);
  const status = { ...own, addresses: addressesToReport(node, own.addresses ?? []) };
  const signature = statusSignature(status);
  const decision = decideStatusReport(lastReport, signature, nowMs, deps.config.statusReportIntervalMs);
  if (!decision.write) return { node, lastReport, lastReadMs };
  const written = await api.patch<Node>(refs.nodes, undefined, deps.ctx.nodeName, { status }, 'merge', { subresource: 'status' });
  if (podCidrOf(written) !== podCidrOf(node)) checkpoint(deps, written);
  return { node: written, lastReport: { signature, atMs: nowMs }, lastReadMs };
}
