/**
 * `D/cluster.json`: what `kubus up` started, so that `down`, `status` and a restart can find every
 * process again: for each, its role, id, pid, the exact argv to restart it and its data dir.
 * Worker agents (`kubus up --agents N`) are recorded the same way, with role `agent` and their
 * `--dir` as data dir; they start after the control plane and stop before it.
 */
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export interface ClusterProcess {
  readonly role: 'nats' | 'server' | 'agent';
  readonly id: string;
  pid: number;
  readonly argv: readonly string[];
  readonly dataDir: string | null;
  readonly log: string;
  /** The member's Kubernetes API URL, when it serves one. */
  readonly apiUrl?: string;
}

export interface ClusterFile {
  readonly cluster: string;
  readonly natsUrl: string;
  readonly members: readonly string[];
  readonly processes: ClusterProcess[];
  /** The admin kubeconfig `kubus up` wrote. */
  readonly kubeconfig?: string;
}

export function clusterFilePath(dir: string): string {
  return join(dir, 'cluster.json');
}

export function readClusterFile(dir: string): ClusterFile | null {
  const path = clusterFilePath(dir);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ClusterFile;
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${(error as Error).message}); fix or remove it`);
  }
}

/** Written to a temporary file and renamed, so a crash never leaves half a file. */
export function writeClusterFile(dir: string, file: ClusterFile): void {
  const path = clusterFilePath(dir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(file, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

export function isAlive(pid: number): boolean {
  // pid 0 would signal our own process group: never started.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
