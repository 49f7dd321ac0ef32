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
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

const wrapperScript = `state=$1; setsid_bin=$2; cgroups=$3; shift 3
"$setsid_bin" /bin/sh -c 'echo $$ >"$0/pid" || exit 126
for procs in $1; do echo $$ >"$procs" || exit 126; done
shift
exec "$@"' "$state" "$cgroups" "$@" </dev/null >>"$state/stdout" 2>>"$state/stderr"
code=$?
echo $code >"$state/exit"
exit $code
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

export interface WrapperStart {
  readonly stateDir: string;
  readonly setsidPath: string;
  readonly cgroupProcsFiles: readonly string[];
  readonly command: readonly string[];
  readonly env: ReadonlyMap<string, string>;
  readonly cwd: string;
}

export function spawnWrapper(start: WrapperStart): ChildProcess {
  const child = spawn('/bin/sh', ['-c', wrapperScript, 'kubus-container', start.stateDir, start.setsidPath, start.cgroupProcsFiles.join(' '), ...start.command], {
    cwd: start.cwd,
    env: Object.fromEntries(start.env),
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child;
}
