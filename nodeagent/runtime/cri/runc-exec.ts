/**
 * Interactive exec without a terminal through `runc exec` on the container's runc state, for
 * sessions with stdin: the v4 WebSocket protocol of containerd 1.6's streaming server cannot
 * half-close stdin, so `tar xf -` (kubectl cp) or `cat` would never see EOF there. runc exec
 * takes the container's own process spec (environment, working directory, user, cgroup,
 * namespaces) with our argv, and its exit status is the command's.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecSession } from '../types.js';
import { criNamespace } from './image-import.js';

export const runcBinary = 'runc';

/** Where containerd's runc v2 shim keeps this namespace's container states (`<Root option>/<namespace>`); null when absent. */
export function runcStateRoot(runcRoot: string): string | null {
  const root = join(runcRoot, criNamespace);
  return existsSync(root) ? root : null;
}

/** `pidFile`: where runc writes the command's host pid, so close() can kill the command itself (runc cannot forward SIGKILL). */
export function openRuncExec(stateRoot: string, containerId: string, command: readonly string[], pidFile: string): Promise<ExecSession> {
  const child = spawn(runcBinary, ['--root', stateRoot, 'exec', '--pid-file', pidFile, containerId, ...command], { stdio: ['pipe', 'pipe', 'pipe'] });
  const close = (): void => {
    try {
      const pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGKILL');
    } catch {
      // Not started yet or already gone: runc itself then ends with it.
    }
    child.kill('SIGKILL');
  };
  const exit = new Promise<number>((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('close', (code, signal) => {
      rmSync(pidFile, { force: true });
      resolve(code ?? (signal !== null ? 128 + signalNumber(signal) : -1));
    });
  });
  // A peer that stops reading stdin (the command exited) must not crash the agent with EPIPE.
  child.stdin.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve({ stdin: child.stdin, stdout: child.stdout, stderr: child.stderr, resize: () => undefined, exit, close }));
    child.once('error', reject);
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1, SIGPIPE: 13 };
  return table[signal] ?? 0;
}
