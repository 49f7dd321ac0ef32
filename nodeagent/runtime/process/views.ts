/** The contract's status shapes from the process runtime's records and decided state. */
import type { ContainerStatus, PodSandboxStatus } from '../types.js';
import type { DecidedState } from './container-state.js';
import type { ContainerRecord, SandboxRecord } from './layout.js';

export function sandboxStatus(record: SandboxRecord): PodSandboxStatus {
  return { id: record.id, podUid: record.config.uid, state: record.ready ? 'ready' : 'notready', ip: record.ip, createdAtMs: record.createdAtMs, labels: record.config.labels };
}

export function containerStatus(record: ContainerRecord, decided: DecidedState): ContainerStatus {
  return {
    id: record.id, sandboxId: record.sandboxId, name: record.config.name, attempt: record.config.attempt, state: decided.state,
    createdAtMs: record.createdAtMs, startedAtMs: record.startedAtMs, finishedAtMs: decided.finishedAtMs, exitCode: decided.exitCode,
    reason: decided.reason, message: decided.message, logPath: record.config.logPath, image: record.config.image, labels: record.config.labels,
  };
}
