/**
 * The kubelet part of the node agent: the pod manager (one worker per pod), the status manager
 * (the PodStatusSink writing pods/<p>/status), the checkpoint, and the pure decisions they use.
 */
export { createPodManager, type PodManager, type PodManagerDeps } from './pod-manager.js';
export { createStatusManager, podsResource, type StatusManager } from './status-manager.js';
export { CheckpointStore, checkpointFileName, type Checkpoint, type PodCheckpoint, type ContainerCheckpoint } from './checkpoint.js';
export { computePodStatus, podPhase, podInitialized, type PodStatusInput, type PodPhase } from './pod-status.js';
export { computePodActions, noteExit, type PodAction, type PodPlan } from './pod-actions.js';
export { nextRestartDelayMs, restartPolicyOf, shouldRestart, shouldRestartInit, type RestartPolicy } from './restart-backoff.js';
export { containerConfig, containerResources, expandVariables, podSandboxConfig, sandboxLabels } from './container-config.js';
export { podWorkerMachine, type PodWorkerEvent, type PodWorkerInput } from './pod-worker.js';
export { kubeletLimits } from './limits.js';
export { CheckpointTooLargeError } from './errors.js';
