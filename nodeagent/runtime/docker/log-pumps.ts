/**
 * The log pumps of one runtime instance, one per container it runs or adopted (log-pump.ts).
 * Bound: `containersMax` pumps; a container past it runs without a CRI log (logged), which the
 * kubelet's own bound on pods keeps from happening.
 */
import type Dockerode from 'dockerode';
import type { Clock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { dockerLimits as limits } from './limits.js';
import { LogPump } from './log-pump.js';
import { withTimeout } from './timeout.js';

export class LogPumps {
  private readonly pumps = new Map<string, LogPump>();

  constructor(private readonly docker: Dockerode, private readonly options: { readonly clock: Clock; readonly logger: Logger }) {}

  follow(containerId: string, logPath: string, tty: boolean): void {
    if (logPath === '' || this.pumps.has(containerId)) return;
    if (this.pumps.size >= limits.containersMax) {
      this.options.logger.warn('too many containers to follow; this one gets no CRI log', { containerId, containersMax: limits.containersMax });
      return;
    }
    const pump = new LogPump(this.docker, { containerId, logPath, tty, clock: this.options.clock, logger: this.options.logger });
    this.pumps.set(containerId, pump);
    pump.start();
  }

  /** Waits (bounded) until the stopped container's whole log is in its file, then forgets the pump. */
  async finish(containerId: string): Promise<void> {
    const pump = this.pumps.get(containerId);
    if (pump === undefined) return;
    await withTimeout(this.options.clock, pump.finished, limits.killSettleMs, 'log pump').catch(() => undefined);
    this.close(containerId);
  }

  close(containerId: string): void {
    this.pumps.get(containerId)?.close();
    this.pumps.delete(containerId);
  }

  closeAll(): void {
    for (const pump of this.pumps.values()) pump.close();
    this.pumps.clear();
  }
}
