/**
 * Helpers of the interactive verbs over CRI: the exit code an attach ends with (the container's,
 * read once containerd has recorded it) and the TCP connection a port-forward is (the pod's
 * address is reachable from the host over the CNI bridge; hostNetwork pods have the node's).
 */
import { connect, type Socket } from 'node:net';
import type { Clock } from '../../../bus/clock.js';
import { PortForwardError } from '../errors.js';
import type { ContainerStatus } from '../types.js';
import { criLimits } from './limits.js';

/** The attach stream ends as the container exits; containerd records the exit a moment later. -1: it still runs (the session was closed). */
export async function exitCodeAfterAttach(containerId: string, deps: { readonly containerStatus: (id: string) => Promise<ContainerStatus | null>; readonly clock: Clock }): Promise<number> {
  const deadline = deps.clock.now() + criLimits.attachExitWaitMs;
  for (;;) {
    const status = await deps.containerStatus(containerId);
    if (status === null) return -1;
    if (status.state === 'exited') return status.exitCode ?? -1;
    if (deps.clock.now() >= deadline) return -1;
    await new Promise<void>((resolve) => deps.clock.setTimeout(resolve, criLimits.attachExitPollMs));
  }
}

export function connectToPod(sandboxId: string, address: string, port: number): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host: address, port, timeout: criLimits.streamConnectMs });
    socket.once('connect', () => {
      socket.setTimeout(0);
      resolve(socket);
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new PortForwardError(sandboxId, address, port, 'connect timed out'));
    });
    socket.once('error', (error) => reject(new PortForwardError(sandboxId, address, port, error.message)));
  });
}
