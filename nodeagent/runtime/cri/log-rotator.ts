/**
 * Rotation of the log files containerd writes (it never rotates them itself; the kubelet does):
 * every `logRotatePollMs`, a running container whose `<logPath>` passed the size bound has its
 * files shifted (`.1` → `.2` …, the oldest dropped), `<logPath>` renamed to `<logPath>.1`, and
 * containerd told to reopen (CRI ReopenContainerLog) so it writes a fresh `<logPath>`. The
 * same names and bounds as the CriLogWriter the other runtimes use, so one log reader reads all.
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import type { Clock, TimerId } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { containerRuntimeLimits } from '../limits.js';
import type { CriClient } from './client.js';
import { criLimits } from './limits.js';

export type RenameStep = { readonly op: 'remove'; readonly path: string } | { readonly op: 'rename'; readonly from: string; readonly to: string };

/** The file operations of one rotation of `path` keeping `filesMax` files in all (pure). */
export function rotationSteps(path: string, filesMax: number): RenameStep[] {
  if (filesMax <= 1) return [];
  const steps: RenameStep[] = [{ op: 'remove', path: `${path}.${filesMax - 1}` }];
  for (let index = filesMax - 2; index >= 1; index -= 1) steps.push({ op: 'rename', from: `${path}.${index}`, to: `${path}.${index + 1}` });
  steps.push({ op: 'rename', from: path, to: `${path}.1` });
  return steps;
}

export class LogRotator {
  private timer: TimerId | null = null;
  private stopped = false;

  constructor(private readonly deps: {
    readonly client: CriClient;
    readonly agent: string;
    readonly agentLabel: string;
    readonly clock: Clock;
    readonly logger: Logger;
    /** The size bound (default: the runtimes' `logFileBytesMax`); tests use a small one. */
    readonly fileBytesMax?: number;
  }) {}

  start(): void {
    if (this.stopped || this.timer !== null) return;
    this.timer = this.deps.clock.setTimeout(() => void this.pass(), criLimits.logRotatePollMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private async pass(): Promise<void> {
    this.timer = null;
    await this.rotateOnce();
    this.start();
  }

  /** One pass over this agent's running containers; failures are logged and left to the next pass. */
  async rotateOnce(): Promise<void> {
    try {
      const { containers } = await this.deps.client.call('ListContainers', { filter: { labelSelector: { [this.deps.agentLabel]: this.deps.agent } } });
      for (const container of containers) {
        if (this.stopped) return;
        if (container.state === 'CONTAINER_RUNNING') await this.rotateIfLarge(container.id);
      }
    } catch (error) {
      this.deps.logger.debug('cri log rotation pass failed; retrying at the next', { error: (error as Error).message });
    }
  }

  private async rotateIfLarge(containerId: string): Promise<void> {
    const { status } = await this.deps.client.call('ContainerStatus', { containerId, verbose: false });
    const path = status?.logPath ?? '';
    if (path === '' || !existsSync(path) || statSync(path).size <= (this.deps.fileBytesMax ?? containerRuntimeLimits.logFileBytesMax)) return;
    for (const step of rotationSteps(path, containerRuntimeLimits.logFilesMax)) {
      if (step.op === 'remove') rmSync(step.path, { force: true });
      else if (existsSync(step.from)) renameSync(step.from, step.to);
    }
    await this.deps.client.call('ReopenContainerLog', { containerId });
  }
}
