/**
 * Port-forward for process containers, cheap on the host: a TCP connection to the pod's
 * address, which is local to this host. (Interactive exec: exec-session.ts; attach: attach-session.ts.)
 */
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { PortForwardError } from '../errors.js';

/** How long a port-forward waits for the pod's port to accept: a local connect answers in microseconds. */
const connectTimeoutMs = 5_000;

export function connectPort(sandboxId: string, address: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, timeout: connectTimeoutMs });
    const fail = (reason: string) => {
      socket.destroy();
      reject(new PortForwardError(sandboxId, address, port, reason));
    };
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('timeout', () => fail(`no answer within ${connectTimeoutMs} ms`));
    socket.once('error', (error) => fail(error.message));
  });
}
