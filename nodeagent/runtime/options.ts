/**
 * What the composition root hands a runtime (`createRuntime(name, options)`): the agent's state
 * directory, the node's pod CIDR (known once the control plane allocated it; checkpointed by the
 * Node part), the node's address, time and a logger.
 */
import type { Clock } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import type { CriRuntimeOptions } from './cri/index.js';
import type { DockerRuntimeOptions } from './docker/index.js';

export interface RuntimeOptions {
  /** The agent's `--dir`; runtimes keep their state under `<dir>/runtime/`. */
  readonly dir: string;
  /** `spec.podCIDR` of the Node, or null while the control plane has not allocated one. */
  readonly podCidr: () => string | null;
  /** The node's address: `hostNetwork` sandboxes use it, and pods share it when the pod CIDR is not loopback. */
  readonly nodeIp: string;
  /** Timers and durations (monotonic). */
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Wall time for the timestamps a runtime reports (created/started/finished, CRI log lines):
   * the agent's `AgentContext.wallClock`; absent, the system's.
   */
  readonly wallClock?: () => Date;
  /** The `cri` runtime's settings (`--cri-socket`, `--cri-pod-subnet`). */
  readonly cri?: CriRuntimeOptions;
  /** The `docker` runtime's settings (`--docker-socket`). */
  readonly docker?: DockerRuntimeOptions;
}

export const systemWallClock = (): Date => new Date();
