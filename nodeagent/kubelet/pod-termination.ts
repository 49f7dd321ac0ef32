/**
 * Stopping a pod, the kubelet's order: for each running container at once, the preStop hook
 * (bounded by the grace period), then SIGTERM with what is left of the grace (at least
 * `minimumStopGraceSeconds` when a hook ran), SIGKILL when it runs out (the runtime's
 * `stopContainer`); then the sandbox and the pod's volumes go, and a deletion is confirmed to the
 * API (`gracePeriodSeconds=0`) so the object disappears. A pod no longer assigned stops at once
 * (grace 0, no hook); a drain (agent stopping with `--drain-on-stop`) stops gracefully but keeps
 * the pod's object and volumes, which the pod gets back when the agent returns.
 */
import { runtimeLabels } from '../runtime/types.js';
import { kubeletLimits } from './limits.js';
import { graceSecondsOf, probeTarget, specOf, type PodWorkerDeps, type TerminationMode, type WorkerState } from './worker-state.js';

async function stopOne(state: WorkerState, deps: PodWorkerDeps, id: string, name: string, graceSeconds: number): Promise<void> {
  const container = specOf(state, name);
  const hook = container?.lifecycle?.preStop;
  let remaining = graceSeconds;
  if (hook !== undefined && container !== undefined && graceSeconds > 0) {
    const began = deps.clock.now();
    const result = await deps.prober.runHook(hook, probeTarget(state, container, id, 0), graceSeconds * 1000);
    if (!result.ok) deps.logger.warn('preStop hook failed', { pod: state.pod.metadata?.name, container: name, message: result.message });
    const spentSeconds = Math.ceil((deps.clock.now() - began) / 1000);
    remaining = Math.max(kubeletLimits.minimumStopGraceSeconds, graceSeconds - spentSeconds);
  }
  await deps.runtime.stopContainer(id, remaining);
}

/** The sandboxes of this pod: the worker's own and any the runtime lists under its uid (a lost id, an older attempt). */
async function sandboxesOf(state: WorkerState, deps: PodWorkerDeps): Promise<string[]> {
  const listed = await deps.runtime.listPodSandboxes();
  const ids = new Set(listed.filter((s) => s.podUid === state.uid || s.labels[runtimeLabels.podUid] === state.uid).map((s) => s.id));
  if (state.sandboxId !== null) ids.add(state.sandboxId);
  return [...ids];
}

export async function terminatePod(state: WorkerState, deps: PodWorkerDeps, mode: TerminationMode): Promise<void> {
  for (const probe of state.probes.values()) probe.stop();
  state.probes.clear();
  const grace = graceSecondsOf(state.pod, mode, kubeletLimits.defaultTerminationGraceSeconds);
  const sandboxes = await sandboxesOf(state, deps);
  const running = [];
  for (const sandboxId of sandboxes) {
    for (const container of await deps.runtime.listContainers({ sandboxId })) {
      if (container.state === 'running' || container.state === 'created') running.push(container);
    }
  }
  await Promise.all(running.map((c) => stopOne(state, deps, c.id, c.labels[runtimeLabels.containerName] ?? c.name, grace).catch((error: unknown) => {
    deps.logger.warn('container did not stop', { pod: state.pod.metadata?.name, container: c.name, error });
  })));
  for (const sandboxId of sandboxes) {
    await deps.runtime.stopPodSandbox(sandboxId);
    if (mode !== 'drain') await deps.runtime.removePodSandbox(sandboxId);
  }
  if (mode !== 'drain') {
    state.sandboxId = null;
    await deps.volumes.tearDown(state.pod);
  }
  if (mode === 'deletion') deps.status.confirmDeletion(state.pod);
  deps.onChange();
}

/** SIGKILL every running container of the pod at once (a force deletion overtaking a graceful one). */
export async function killPodNow(state: WorkerState, deps: PodWorkerDeps): Promise<void> {
  for (const sandboxId of await sandboxesOf(state, deps)) {
    for (const container of await deps.runtime.listContainers({ sandboxId })) {
      if (container.state === 'running') await deps.runtime.stopContainer(container.id, 0);
    }
  }
}
