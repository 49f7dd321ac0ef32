/**
 * `execSync` for process containers (exec probes, preStop exec hooks): the command runs with the
 * container's environment and working directory, in a process group of its own so a timeout
 * kills all of it, with its output kept up to a bound. A command that cannot be started is exit
 * code 127 with the reason on stderr, as a shell reports it, so a probe simply fails.
 */
import { spawn } from 'node:child_process';
import type { Clock } from '../../../bus/clock.js';
import { containerRuntimeLimits } from '../limits.js';
import type { ExecResult } from '../types.js';

const signalNumbers: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

/** A status as `sh` reports it: the code, or 128 + the signal's number. */
export function shellExitCode(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal === null ? 0 : signalNumbers[signal] ?? 0);
}

class BoundedOutput {
  private readonly chunks: Buffer[] = [];
  private bytes = 0;
  add(chunk: Buffer): void {
    const room = containerRuntimeLimits.execOutputBytesMax - this.bytes;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.bytes += kept.length;
  }
  bytesRead(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.chunks));
  }
}

export function runExecSync(command: readonly string[], options: { readonly env: ReadonlyMap<string, string>; readonly cwd: string; readonly timeoutMs: number; readonly clock: Clock }): Promise<ExecResult> {
  return new Promise((resolve) => {
    const [file, ...args] = command;
    const stdout = new BoundedOutput();
    const stderr = new BoundedOutput();
    let timedOut = false;
    let settled = false;
    const finish = (exitCode: number) => {
      if (settled) return;
      settled = true;
      options.clock.clearTimeout(timer);
      resolve({ exitCode, stdout: stdout.bytesRead(), stderr: stderr.bytesRead(), timedOut });
    };
    const child = spawn(file ?? '', args, { cwd: options.cwd, env: Object.fromEntries(options.env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = options.clock.setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, options.timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => stdout.add(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.add(chunk));
    child.on('error', (error) => {
      stderr.add(Buffer.from(`${file ?? ''}: ${error.message}\n`));
      finish(127);
    });
    child.on('close', (code, signal) => finish(shellExitCode(code, signal)));
  });
}
