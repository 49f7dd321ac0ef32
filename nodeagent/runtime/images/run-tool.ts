/**
 * Runs a build tool (gcc, busybox) with a deadline and bounded output; tells "not installed"
 * (ENOENT) apart from "failed", since the first is fixed by a package and the second is not.
 */
import { execFile } from 'node:child_process';
import { localImageLimits } from './limits.js';

export type ToolResult =
  | { readonly kind: 'ok'; readonly stdout: string; readonly stderr: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'failed'; readonly detail: string };

export function runTool(file: string, args: readonly string[], timeoutMs: number): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(file, [...args], { timeout: timeoutMs, maxBuffer: localImageLimits.toolOutputBytesMax, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ kind: 'ok', stdout, stderr });
        return;
      }
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        resolve({ kind: 'missing' });
        return;
      }
      const detail = error.killed ? `killed after ${timeoutMs} ms` : (stderr.trim() || error.message).slice(0, 4_000);
      resolve({ kind: 'failed', detail });
    });
  });
}
