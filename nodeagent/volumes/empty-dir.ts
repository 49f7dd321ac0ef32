/**
 * emptyDir volumes: a directory per (pod, volume) that lives as long as the pod. `medium: Memory`
 * puts it on tmpfs (`/dev/shm`) when that is writable, else on disk with a warning.
 *
 * Decision (sizeLimit): Kubernetes evicts a pod whose emptyDir outgrows its `sizeLimit`. The agent
 * measures each limited emptyDir at every refresh and, when over, logs a warning and records a
 * Warning Event `EmptyDirSizeLimitExceeded` on the pod; it does not evict (eviction of pods by the
 * node is not part of this issue), and says so in the Event's message.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { volumeLimits } from './limits.js';

/** Whether `root` accepts a new directory (the medium is usable). */
export async function writableDirectory(root: string): Promise<boolean> {
  try {
    await fs.access(root, fs.constants.W_OK);
    return (await fs.stat(root)).isDirectory();
  } catch {
    return false;
  }
}

/** Bytes used under `root` (regular files' sizes), visiting at most `sizeCheckEntriesMax` entries. */
export async function directoryBytes(root: string): Promise<{ readonly bytes: number; readonly complete: boolean }> {
  let bytes = 0;
  let visited = 0;
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      visited += 1;
      if (visited > volumeLimits.sizeCheckEntriesMax) return { bytes, complete: false };
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) stack.push(full);
      else if (entry.isFile()) bytes += (await fs.stat(full).catch(() => ({ size: 0 }))).size;
    }
  }
  return { bytes, complete: true };
}
