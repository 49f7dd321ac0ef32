/**
 * Interactive exec and port-forward for process containers, cheap on the host: exec is a child
 * process with the container's environment and working directory and piped stdio (no terminal:
 * a `tty` request is RuntimeUnsupportedError until a pty library is chosen, issue 13); a
 * port-forward is a TCP connection to the pod's address, which is local to this host.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { PortForwardError, RuntimeUnsupportedError } from '../errors.js';
import type { ExecRequest, ExecSession } from '../types.js';
import { shellExitCode } from './exec-sync.js';

/** How long a port-forward waits for the pod's port to accept: a local connect answers in microseconds. */
const connectTimeoutMs = 5_000;

export function startExec(request: ExecRequest, options: { readonly env: ReadonlyMap<string, string>; readonly cwd: string }): ExecSession {
  if (request.tty) throw new RuntimeUnsupportedError('process', 'exec with a terminal (tty)', 'run without -t; terminals come with issue 13');
  const [file, ...args] = request.command;
  const child = spawn(file ?? '', args, { cwd: options.cwd, env: Object.fromEntries(options.env), stdio: [request.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const exit = new Promise<number>((resolve) => {
    child.on('error', (error) => {
      child.stderr?.push(`${file ?? ''}: ${error.message}\n`);
      resolve(127);
    });
    child.on('close', (code, signal) => resolve(shellExitCode(code, signal)));
  });
  return {
    stdin: child.stdin,
    stdout: child.stdout as NodeJS.ReadableStream,
    stderr: child.stderr,
    resize: () => undefined,
    exit,
  };
}

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
