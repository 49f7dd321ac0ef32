/**
 * Interactive exec in a process container: the command runs on the host with the container's
 * environment and working directory, joined to the container's cgroups when it has them (so its
 * memory and CPU count against the container's limits, as in a real container), in a process
 * group of its own so that closing the session kills all of it.
 *
 * - Without a terminal: piped stdio (stdout, stderr separate).
 * - With a terminal (`tty`): under `script` (terminal.ts); one output stream; the terminal stays
 *   open without stdin (input never ends, as on a terminal nobody types into). Without util-linux
 *   `script` on the host: piped, stdout and stderr merged into the one stream, no resize.
 * - A command that cannot run is reported as a shell would: its message on stderr (the
 *   terminal's output with tty) and exit code 127 (not found) or 126 (not executable).
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Clock, TimerId } from '../../../bus/clock.js';
import type { ExecRequest, ExecSession } from '../types.js';
import { shellExitCode } from './exec-sync.js';
import { commandProblem } from './wrapper.js';
import { childPids, findTerminal, shellQuote, TerminalResizer } from './terminal.js';
import { interactiveLimits } from './interactive-limits.js';

export type ClosableSession = ExecSession & { close(): void };

export interface ExecOptions {
  readonly env: ReadonlyMap<string, string>;
  readonly cwd: string;
  /** The container's cgroup.procs files (empty: none, or not writable here). */
  readonly cgroupProcsFiles: readonly string[];
  /** Paces the look for a terminal to resize. */
  readonly clock: Clock;
}

/**
 * Joins the cgroups, then execs the command: `sh -c SCRIPT procs1 procs2 cmd...`. A cgroup that
 * refuses (gone, not writable) does not stop the exec. Sets no shell variable (the env is the container's).
 */
const joinScript = '[ -z "$0" ] || echo $$ >"$0" 2>/dev/null; [ -z "$1" ] || echo $$ >"$1" 2>/dev/null; shift; exec "$@"';

/** The exit code and message of a command that cannot start, or null. */
export function execProblem(command: readonly string[], env: ReadonlyMap<string, string>, cwd: string): { readonly exitCode: number; readonly message: string } | null {
  const [file = ''] = command;
  const problem = commandProblem(file, env, cwd);
  if (problem === null) return null;
  const path = file.includes('/') ? (isAbsolute(file) ? file : join(cwd, file)) : null;
  // Present but not executable: 126, as a shell answers "Permission denied".
  return { exitCode: path !== null && existsSync(path) ? 126 : 127, message: `${problem}\n` };
}

export function startExec(request: ExecRequest, options: ExecOptions): ClosableSession {
  const problem = execProblem(request.command, options.env, options.cwd);
  if (problem !== null) return failedSession(request, problem);
  const [first = '', second = ''] = options.cgroupProcsFiles;
  const joined = ['/bin/sh', '-c', joinScript, first, second, ...request.command];
  if (!request.tty) return pipedExec(request, joined, options);
  const script = findScript();
  // Fallback without util-linux `script`: no terminal, the two outputs merged as a terminal shows them.
  return script !== null ? terminalExec(script, request, joined, options) : mergedExec(request, joined, options);
}

let scriptPath: string | null | undefined;
/** util-linux `script`, found once (absent on minimal hosts: tty exec then runs without a terminal). */
function findScript(): string | null {
  scriptPath ??= ['/usr/bin/script', '/bin/script'].find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }) ?? null;
  return scriptPath;
}

function mergedExec(request: ExecRequest, argv: readonly string[], options: ExecOptions): ClosableSession {
  const piped = pipedExec(request, argv, options);
  const merged = new PassThrough();
  let open = 2;
  for (const source of [piped.stdout, piped.stderr]) {
    source?.pipe(merged, { end: false });
    source?.on('end', () => {
      if (--open === 0) merged.end();
    });
  }
  return { ...piped, stdout: merged, stderr: null };
}

function pipedExec(request: ExecRequest, argv: readonly string[], options: ExecOptions): ClosableSession {
  const [file = '', ...args] = argv;
  const child = spawn(file, args, { cwd: options.cwd, env: Object.fromEntries(options.env), detached: true, stdio: [request.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const exit = new Promise<number>((resolve) => {
    child.on('error', (error) => {
      child.stderr?.push(`${file}: ${error.message}\n`);
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
    close: () => killGroup(child.pid),
  };
}

function terminalExec(script: string, request: ExecRequest, argv: readonly string[], options: ExecOptions): ClosableSession {
  // Not detached from script's terminal logic: script itself makes the command a session leader on the terminal.
  const child = spawn(script, ['-qfec', shellQuote(argv), '/dev/null'], { cwd: options.cwd, env: Object.fromEntries(options.env), detached: true, stdio: ['pipe', 'pipe', 'ignore'] });
  const resizer = new TerminalResizer(() => (child.pid === undefined ? null : findTerminal(child.pid)));
  // kubectl's first resize may come before script made the terminal: look again for a bounded while.
  let lookup: TimerId | null = null;
  const stopLookup = () => {
    if (lookup !== null) options.clock.clearTimeout(lookup);
    lookup = null;
  };
  const lookAgain = (attempt: number) => {
    lookup = options.clock.setTimeout(() => {
      lookup = null;
      resizer.flush();
      if (resizer.hasPending() && attempt + 1 < interactiveLimits.terminalLookupAttemptsMax) lookAgain(attempt + 1);
    }, interactiveLimits.terminalLookupPollMs);
  };
  const resize = (columns: number, rows: number) => {
    resizer.resize(columns, rows);
    if (resizer.hasPending() && lookup === null) lookAgain(0);
  };
  const exit = new Promise<number>((resolve) => {
    child.on('error', (error) => {
      child.stdout?.push(`script: ${error.message}\r\n`);
      resolve(127);
    });
    child.on('close', (code, signal) => {
      stopLookup();
      resolve(shellExitCode(code, signal));
    });
  });
  // stdin not requested: the terminal is kept open (never EOF) until the command ends.
  child.stdin?.on('error', () => undefined);
  return {
    stdin: request.stdin ? child.stdin : null,
    stdout: child.stdout as NodeJS.ReadableStream,
    stderr: null,
    resize,
    exit,
    close: () => {
      stopLookup();
      // The command is in its own session on the terminal: kill it by pid, then script's group.
      if (child.pid !== undefined) for (const pid of childPids(child.pid)) killGroup(pid);
      killGroup(child.pid);
    },
  };
}

/** A session for a command that cannot start: the shell's message, then its exit code. */
function failedSession(request: ExecRequest, problem: { readonly exitCode: number; readonly message: string }): ClosableSession {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const target = request.tty ? stdout : stderr;
  target.end(request.tty ? problem.message.replaceAll('\n', '\r\n') : problem.message);
  if (target !== stdout) stdout.end();
  const stdin = request.stdin ? new PassThrough() : null;
  stdin?.resume();
  return { stdin, stdout, stderr: request.tty ? null : stderr, resize: () => undefined, exit: Promise.resolve(problem.exitCode), close: () => undefined };
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
