/**
 * How a process container is started so that it outlives the agent and its exit status is still
 * known afterwards (§6 adoption):
 *
 *   agent ──spawn, detached (own session)──▶ sh wrapper  (≈1 MB RSS, waits, records `$?`)
 *                                              └─fork, setsid──▶ sh -c: write own pid, join cgroups,
 *                                                                exec command  (own session and group)
 *
 * - The wrapper is a plain `sh` in its own session: the agent's death (SIGTERM, SIGKILL, a
 *   closed terminal) does not reach it or the container, and no pipe ties them to the agent.
 * - The container is the leader of its own process group (via `setsid`, which execs in place
 *   because the wrapper's child is not a group leader): stopContainer signals that group, and the
 *   wrapper, outside it, survives to write the exit status (`$?`: 128+signal, so 137/143).
 * - Input is /dev/null, or with `stdin: true` the FIFO `stdin` in the state directory, which the
 *   container opens read-write: it holds a writer itself, so it never sees EOF while attaches
 *   come and go (Kubernetes keeps stdin open across attaches), and nothing else holds the FIFO,
 *   so an attach finds no reader (and writes nothing) once the container exited.
 * - Output goes to raw files opened with O_APPEND (`>>`), which the agent copies into CRI logs
 *   (output-tailer.ts); output written while the agent is down waits in them.
 * - Before exec, the container writes its pid (its process group) into the state directory and
 *   itself into its cgroups, so nothing of it runs outside its limits.
 *
 * Decision: a shell wrapper rather than a per-container shim process: `sh` costs about 1 MB per
 * container where a Node.js shim would cost about 40 MB; what it cannot do (CRI log lines,
 * timestamps, rotation) the agent does from the raw files when it runs. Cost: the raw files grow
 * while the agent is down, log timestamps are the time the agent read the line, and a line may be
 * copied twice if the agent dies between writing it and recording the offset.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/**
 * The wrapper and the container's first act, in `sh`. They set no shell variable: every one would
 * be exported over a same-named variable of the container's environment. Arguments: state
 * directory, setsid path, up to two cgroup.procs files (empty when none), then the command.
 */
const wrapperScript = `"$2" /bin/sh -c '
echo $$ >"$0/pid" || exit 126
[ -z "$2" ] || echo $$ >"$2" || exit 126
[ -z "$3" ] || echo $$ >"$3" || exit 126
[ ! -p "$0/stdin" ] || exec 0<>"$0/stdin" || exit 126
shift 3
exec "$@"' "$@" </dev/null >>"$1/stdout" 2>>"$1/stderr"
echo $? >"$1/exit"
`;

/** `setsid` from util-linux, found once; absent: the runtime cannot start containers (status says so). */
export function findSetsid(): string | null {
  for (const candidate of ['/usr/bin/setsid', '/bin/setsid', '/usr/sbin/setsid']) {
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Why the command cannot run, as Kubernetes words it (ContainerCannotRun), or null: it is
 * resolved against the container's own PATH, as exec would, before anything is started.
 */
export function commandProblem(command: string, env: ReadonlyMap<string, string>, cwd: string): string | null {
  if (command.includes('/')) {
    const path = isAbsolute(command) ? command : join(cwd, command);
    return isExecutable(path) ? null : `exec: "${command}": no such executable file`;
  }
  for (const dir of (env.get('PATH') ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, command))) return null;
  }
  return `exec: "${command}": executable file not found in $PATH`;
}

/** Makes the container's stdin FIFO (0600: only the agent writes it); an existing one (a restarted container) is kept. */
export function makeStdinFifo(stateDir: string): void {
  const path = join(stateDir, 'stdin');
  try {
    if (statSync(path).isFIFO()) return;
  } catch {
    // Not there yet.
  }
  const made = spawnSync('mkfifo', ['-m', '0600', path], { stdio: 'ignore' });
  if (made.status !== 0) throw new Error(`cannot make the stdin FIFO ${path} (mkfifo exit ${String(made.status)})`);
}

export interface WrapperStart {
  readonly stateDir: string;
  readonly setsidPath: string;
  readonly cgroupProcsFiles: readonly string[];
  readonly command: readonly string[];
  readonly env: ReadonlyMap<string, string>;
  readonly cwd: string;
}

export function spawnWrapper(start: WrapperStart): ChildProcess {
  const [first = '', second = ''] = start.cgroupProcsFiles;
  const child = spawn('/bin/sh', ['-c', wrapperScript, 'kubus-container', start.stateDir, start.setsidPath, first, second, ...start.command], {
    cwd: start.cwd,
    env: Object.fromEntries(start.env),
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child;
}
