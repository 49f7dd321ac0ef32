/**
 * The runtime work of one pod worker, invoked by its machine (pod-worker.ts): `preparePod` gets a
 * sandbox (adopting the one already running after an agent restart, else making one with the
 * checkpointed IP) and the volumes; `syncPod` refreshes the container records from the runtime,
 * performs the plan `computePodActions` makes (start, kill) and reports the status.
 */
import type { Container } from 'kubernetes-types/core/v1.js';
import type { ProbeTransition } from '../agent-context.js';
import type { ContainerStatus } from '../runtime/types.js';
import { runtimeLabels } from '../runtime/types.js';
import { containerConfig, podSandboxConfig } from './container-config.js';
import { instanceOf, isExited, type ContainerInstance, type ContainerRecord } from './container-record.js';
import { kubeletLimits } from './limits.js';
import { credentialsFor, imagePullBackoffMs, imagePullWaitingReason, pullPolicyOf, pullSecretsOf } from './image-pull.js';
import { ImagePullError } from '../runtime/errors.js';
import { computePodActions, noteExit } from './pod-actions.js';
import { computePodStatus } from './pod-status.js';
import { graceSecondsOf, probeTarget, specOf, type PodWorkerDeps, type WorkerState } from './worker-state.js';

export type ProbeListener = (container: string, containerId: string, transition: ProbeTransition) => void;

function sandboxConfig(state: WorkerState, deps: PodWorkerDeps) {
  return podSandboxConfig({ agentDir: deps.agentDir, pod: state.pod, attempt: state.sandboxAttempt, ip: state.podIp, ...(deps.dns !== undefined ? { dns: deps.dns } : {}) });
}

/** A ready sandbox for the pod (adopted or new) and its volumes. */
export async function preparePod(state: WorkerState, deps: PodWorkerDeps): Promise<void> {
  if (state.finished) return;
  const { runtime } = deps;
  let sandbox = state.adoptSandbox;
  state.adoptSandbox = null;
  // Set up before in this life: a retry after a volume failure, not an adoption.
  const retry = state.sandboxSetUp;
  if (sandbox === null && state.sandboxId !== null) sandbox = await runtime.podSandboxStatus(state.sandboxId);
  if (sandbox !== null && sandbox.state !== 'ready') {
    // A sandbox that lost its network (host reboot): make a new one, as the kubelet does.
    await runtime.removePodSandbox(sandbox.id).catch(() => undefined);
    state.sandboxAttempt++;
    sandbox = null;
  }
  if (sandbox === null) {
    const id = await runtime.runPodSandbox(sandboxConfig(state, deps));
    sandbox = await runtime.podSandboxStatus(id);
    state.sandboxId = id;
  } else {
    state.sandboxId = sandbox.id;
    if (!retry) deps.logger.info('adopted running pod sandbox', { pod: state.pod.metadata?.name, uid: state.uid, sandbox: sandbox.id });
  }
  state.sandboxSetUp = true;
  state.podIp = sandbox?.ip ?? (state.pod.spec?.hostNetwork === true ? deps.nodeIp : state.podIp);
  deps.onChange();
  state.volumes = await deps.volumes.setUp(state.pod, state.podIp);
  state.volumesRefreshedAtMs = deps.clock.now();
}

/** configMap/secret/downwardAPI/token contents follow their sources while the pod runs; a failure keeps the old contents. */
async function refreshVolumes(state: WorkerState, deps: PodWorkerDeps): Promise<void> {
  const now = deps.clock.now();
  if (now - state.volumesRefreshedAtMs < kubeletLimits.volumeRefreshIntervalMs) return;
  state.volumesRefreshedAtMs = now;
  await deps.volumes.refresh(state.pod, state.podIp).catch((error: unknown) => {
    deps.logger.warn('volume refresh failed', { pod: state.pod.metadata?.name, error });
  });
}

function latestByName(statuses: readonly ContainerStatus[]): Map<string, ContainerStatus[]> {
  const byName = new Map<string, ContainerStatus[]>();
  for (const status of statuses) {
    const name = status.labels[runtimeLabels.containerName] ?? status.name;
    byName.set(name, [...(byName.get(name) ?? []), status].sort((a, b) => b.attempt - a.attempt));
  }
  return byName;
}

function stopProbe(state: WorkerState, name: string): void {
  state.probes.get(name)?.stop();
  state.probes.delete(name);
}

function startProbes(state: WorkerState, deps: PodWorkerDeps, record: ContainerRecord, onProbe: ProbeListener): void {
  const container = specOf(state, record.name);
  const current = record.current;
  if (container === undefined || current === null || record.init) return;
  stopProbe(state, record.name);
  record.started = container.startupProbe === undefined;
  record.ready = record.started && container.readinessProbe === undefined;
  const target = probeTarget(state, container, current.id, current.startedAtMs ?? deps.wallClock().getTime());
  state.probes.set(record.name, deps.prober.start(target, (transition) => onProbe(record.name, current.id, transition)));
}

/** Brings the records up to what the runtime runs; notes exits (CrashLoopBackOff) and adopts instances it did not start. */
async function refresh(state: WorkerState, deps: PodWorkerDeps, onProbe: ProbeListener): Promise<void> {
  if (state.sandboxId === null) return;
  const now = deps.clock.now();
  const byName = latestByName(await deps.runtime.listContainers({ sandboxId: state.sandboxId }));
  for (const record of state.records) {
    const instances = byName.get(record.name) ?? [];
    const latest = instances[0];
    if (latest === undefined) continue;
    const before = record.current;
    if (before !== null && before.id !== latest.id && latest.attempt < before.attempt) continue;
    record.current = instanceOf(latest);
    if (before === null || before.id !== latest.id) {
      // Adopted: an instance the agent did not start in this life (it restarted).
      record.restartCount = latest.attempt;
      record.everStarted = true;
      const older = instances[1];
      record.previous = older !== undefined ? instanceOf(older) : record.previous;
      if (latest.state === 'running') {
        record.startedAtMonotonicMs = now;
        startProbes(state, deps, record, onProbe);
      }
    }
    if (isExited(record.current) && (before === null || before.id !== latest.id || !isExited(before))) {
      stopProbe(state, record.name);
      noteExit(state.pod, record, now);
    }
    // Kubernetes keeps one exited instance for `logs --previous`; older ones are removed.
    for (const stale of instances.slice(2)) if (stale.state === 'exited') await deps.runtime.removeContainer(stale.id).catch(() => undefined);
  }
}

async function startContainer(state: WorkerState, deps: PodWorkerDeps, record: ContainerRecord, onProbe: ProbeListener): Promise<void> {
  const container = specOf(state, record.name);
  if (container === undefined || state.sandboxId === null || state.volumes === null) return;
  const attempt = record.everStarted ? record.restartCount + 1 : record.restartCount;
  const now = deps.clock.now();
  if (container.securityContext?.privileged === true && deps.allowPrivileged !== true) {
    // The kubelet's --allow-privileged=false answer; nothing is created until the agent allows it.
    record.waiting = { reason: 'CreateContainerConfigError', message: `container ${record.name} asks for privileged mode, which this node does not allow (start the agent with --allow-privileged)` };
    record.restartAtMonotonicMs = now + kubeletLimits.sandboxRetryMs;
    return;
  }
  if (!(await pullImage(state, deps, record, container, now))) return;
  let id: string;
  try {
    const env = await deps.env.resolve(state.pod, container, state.podIp, deps.nodeIp);
    const config = containerConfig({ agentDir: deps.agentDir, pod: state.pod, container, attempt, env, volumes: state.volumes });
    id = await deps.runtime.createContainer(state.sandboxId, config, sandboxConfig(state, deps));
    await deps.runtime.startContainer(id);
  } catch (error) {
    record.waiting = { reason: 'CreateContainerError', message: (error as Error)?.message ?? String(error) };
    record.restartAtMonotonicMs = now + kubeletLimits.sandboxRetryMs;
    deps.logger.warn('container did not start', { pod: state.pod.metadata?.name, container: record.name, error });
    return;
  }
  const status = await deps.runtime.containerStatus(id);
  if (isExited(record.current)) record.previous = record.current;
  record.current = status !== null ? instanceOf(status) : {
    id, attempt, image: container.image ?? '', state: 'running', startedAtMs: deps.wallClock().getTime(),
    finishedAtMs: null, exitCode: null, reason: null, message: null,
  };
  record.restartCount = attempt;
  record.everStarted = true;
  record.waiting = null;
  record.startedAtMonotonicMs = now;
  deps.onChange();
  if (isExited(record.current)) {
    // Exited before we looked (a command not found, an instant crash): the backoff starts now.
    noteExit(state.pod, record, now);
    return;
  }
  await runPostStart(state, deps, record, container);
  // runPostStart may have killed it (TypeScript does not see the mutation).
  if ((record.current as ContainerInstance | null)?.state === 'running') startProbes(state, deps, record, onProbe);
}

/** The image per the pull policy; false (and the container waiting in ErrImagePull/ImagePullBackOff) when it is not present. */
async function pullImage(state: WorkerState, deps: PodWorkerDeps, record: ContainerRecord, container: Container, now: number): Promise<boolean> {
  const image = container.image ?? '';
  try {
    const secrets = deps.secretData === undefined ? [] : await pullSecretsOf(state.pod, deps.secretData);
    await deps.runtime.ensureImage(image, pullPolicyOf(container), credentialsFor(image, secrets));
    record.imagePullFailures = 0;
    return true;
  } catch (error) {
    if (!(error instanceof ImagePullError)) throw error;
    record.imagePullFailures += 1;
    const reason = imagePullWaitingReason(error.reason, record.imagePullFailures);
    const message = reason === 'ImagePullBackOff' ? `Back-off pulling image ${JSON.stringify(image)}: ${error.detail}` : error.message;
    record.waiting = { reason, message };
    record.restartAtMonotonicMs = now + imagePullBackoffMs(record.imagePullFailures);
    deps.logger.warn('image not present', { pod: state.pod.metadata?.name, container: record.name, image, reason: error.reason, detail: error.detail });
    return false;
  }
}

/** postStart: a failed hook kills the container (Kubernetes: FailedPostStartHook), which then restarts per policy. */
async function runPostStart(state: WorkerState, deps: PodWorkerDeps, record: ContainerRecord, container: Container): Promise<void> {
  const hook = container.lifecycle?.postStart;
  const current = record.current;
  if (hook === undefined || current === null) return;
  const result = await deps.prober.runHook(hook, probeTarget(state, container, current.id, current.startedAtMs ?? 0), kubeletLimits.postStartHookTimeoutMs);
  if (result.ok) return;
  deps.logger.warn('postStart hook failed; killing the container', { pod: state.pod.metadata?.name, container: record.name, message: result.message });
  await killContainer(state, deps, record, `FailedPostStartHook: ${result.message}`);
}

async function killContainer(state: WorkerState, deps: PodWorkerDeps, record: ContainerRecord, reason: string): Promise<void> {
  const current = record.current;
  if (current === null) return;
  deps.logger.info('killing container', { pod: state.pod.metadata?.name, container: record.name, reason });
  stopProbe(state, record.name);
  await deps.runtime.stopContainer(current.id, graceSecondsOf(state.pod, 'drain', kubeletLimits.defaultTerminationGraceSeconds));
  const status = await deps.runtime.containerStatus(current.id);
  if (status !== null) record.current = instanceOf(status);
  if (isExited(record.current)) noteExit(state.pod, record, deps.clock.now());
}

/** One pass: refresh, act, report. Returns when every runtime call of the pass is done. */
export async function syncPod(state: WorkerState, deps: PodWorkerDeps, onProbe: ProbeListener): Promise<void> {
  if (state.finished) return;
  await refresh(state, deps, onProbe);
  await refreshVolumes(state, deps);
  const plan = computePodActions(state.pod, state.records, deps.clock.now());
  for (const action of plan.actions) {
    const record = state.records.find((r) => r.name === action.name);
    if (record === undefined) continue;
    if (action.kind === 'kill') await killContainer(state, deps, record, action.reason);
    else await startContainer(state, deps, record, onProbe);
  }
  const replan = plan.actions.length > 0 ? computePodActions(state.pod, state.records, deps.clock.now()) : plan;
  state.wakeAtMonotonicMs = replan.actions.length > 0 ? deps.clock.now() : replan.wakeAtMonotonicMs;
  reportStatus(state, deps);
}

/** Sandbox or volume setup failed: the pod says why (containers waiting in ContainerCreating with the error), as `kubectl describe` would. */
export function reportSetupFailure(state: WorkerState, deps: PodWorkerDeps, error: unknown): void {
  const message = (error as Error)?.message ?? String(error);
  for (const record of state.records) if (record.current === null) record.waiting = { reason: 'ContainerCreating', message };
  reportStatus(state, deps);
}

/** Everything of the records and addresses the status is computed from (times come from the instances, named by id and state). */
function statusFingerprint(state: WorkerState): string {
  const parts = [state.podIp ?? ''];
  for (const r of state.records) {
    const c = r.current;
    parts.push(`${r.name}|${r.restartCount}|${c?.id ?? ''}|${c?.state ?? ''}|${c?.exitCode ?? ''}|${r.previous?.id ?? ''}|${r.waiting?.message ?? ''}|${r.started}|${r.ready}`);
  }
  return parts.join('\n');
}

/**
 * Hands the status to the sink when its inputs changed since the last report: the relist runs
 * every second for every pod (thousands of hollow pods in one process), and most passes change nothing.
 */
export function reportStatus(state: WorkerState, deps: PodWorkerDeps): void {
  if (state.finished) return;
  const fingerprint = statusFingerprint(state);
  if (state.reported !== null && state.reported.pod === state.pod && state.reported.fingerprint === fingerprint) return;
  state.reported = { pod: state.pod, fingerprint };
  deps.status.set(state.pod, computePodStatus({
    pod: state.pod, containers: state.records, podIp: state.podIp, hostIp: deps.nodeIp,
    startTimeMs: state.startTimeMs, runtimeName: deps.runtime.name, nowMs: deps.wallClock().getTime(),
  }));
}
