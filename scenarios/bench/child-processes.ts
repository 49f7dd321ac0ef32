/**
 * What the benches that start agent processes share: keeping the last lines a child printed (to
 * say why it exited), and stopping children (SIGTERM, a grace, then SIGKILL).
 */
import type { ChildProcess } from 'node:child_process';

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => child.once('exit', () => done()));
}

/** The child's last `linesMax` output lines (stdout and stderr), kept up to date as it prints. */
export function keepOutputTail(child: ChildProcess, linesMax: number): string[] {
  const tail: string[] = [];
  const keep = (chunk: Buffer): void => {
    tail.push(...chunk.toString().split('\n').filter((line) => line !== ''));
    tail.splice(0, Math.max(0, tail.length - linesMax));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return tail;
}

/** SIGTERM to every child still running, up to `graceMs` for them to exit, then SIGKILL. */
export async function stopChildren(children: readonly ChildProcess[], graceMs: number): Promise<void> {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.race([Promise.all(children.map(exited)), new Promise((done) => setTimeout(done, graceMs))]);
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(children.map(exited));
}
