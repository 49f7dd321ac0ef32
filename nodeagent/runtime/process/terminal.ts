/**
 * Terminals for process-runtime exec without a pty library: the command runs under util-linux
 * `script -qfec CMD /dev/null`, which gives it a pseudo-terminal and relays the terminal's
 * output on its own stdout and its stdin into the terminal (EOF on stdin: EOF to the terminal).
 * A resize is `stty -F <the command's terminal> cols C rows R`, which makes the kernel send
 * SIGWINCH to the terminal's foreground process group, as a real terminal resize does.
 *
 * Decision: no node-pty (a native addon to build on every host); cost: one `script` process
 * per terminal exec and one `stty` per resize, and the terminal is found through /proc.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';

/** Quotes `args` for `sh -c` so each stays one word: 'a'\''b'. */
export function shellQuote(args: readonly string[]): string {
  return args.map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(' ');
}

/** The terminal device of `script`'s child (the command), or null while it has none. */
export function findTerminal(scriptPid: number): string | null {
  let children: string;
  try {
    children = readFileSync(`/proc/${scriptPid}/task/${scriptPid}/children`, 'utf8');
  } catch {
    return null;
  }
  for (const child of children.trim().split(/\s+/).filter((pid) => pid !== '')) {
    try {
      const device = readlinkSync(`/proc/${child}/fd/0`);
      if (device.startsWith('/dev/pts/')) return device;
    } catch {
      // Gone meanwhile, or not yet set up.
    }
  }
  return null;
}

/** The pids of `script`'s children (the command): killed with the session. */
export function childPids(scriptPid: number): number[] {
  try {
    return readFileSync(`/proc/${scriptPid}/task/${scriptPid}/children`, 'utf8').trim().split(/\s+/).filter((pid) => pid !== '').map(Number);
  } catch {
    return [];
  }
}

/**
 * Applies resizes one at a time, the latest winning: kubectl sends one per SIGWINCH, and a burst
 * while dragging a window must not start a `stty` for each.
 */
export class TerminalResizer {
  private pending: { readonly columns: number; readonly rows: number } | null = null;
  private running = false;

  constructor(private readonly device: () => string | null) {}

  resize(columns: number, rows: number): void {
    this.pending = { columns, rows };
    this.flush();
  }

  /** Called again once the terminal may have appeared. */
  flush(): void {
    if (this.running || this.pending === null) return;
    const device = this.device();
    if (device === null) return;
    const { columns, rows } = this.pending;
    this.pending = null;
    this.running = true;
    execFile('stty', ['-F', device, 'cols', String(columns), 'rows', String(rows)], () => {
      this.running = false;
      this.flush();
    });
  }

  hasPending(): boolean {
    return this.pending !== null;
  }
}
