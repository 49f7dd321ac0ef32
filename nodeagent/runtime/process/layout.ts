/**
 * The process runtime's files under `<dir>/runtime/`, the whole of its state (a restarted agent
 * rebuilds everything from them, §6 adoption):
 *
 *   ips.json                         pod address allocator snapshot (ip-allocator.ts)
 *   sandboxes/<id>.json              one sandbox: its config, address, state
 *   state/<id>/container.json        one container: config, sandbox, pids + start times, cgroups
 *   state/<id>/pid                   written by the container itself before it execs (its pid = its process group)
 *   state/<id>/stdout, stderr        raw output, appended by the container (O_APPEND), copied into the CRI log
 *   state/<id>/exit                  its exit status as `sh` reports it, written by the wrapper; mtime = exit time
 *   state/<id>/log-offsets.json      how far the raw files are copied into the CRI log
 *   containers/<id>/                 the container's working directory (mounts as symlinks inside)
 *
 * Decision: every record is written whole to a temporary file and renamed over the old one, so a
 * crash of the agent mid-write leaves the old record, never half of one.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerConfig, PodSandboxConfig } from '../types.js';

export interface ProcessLayout {
  readonly root: string;
  readonly ipsFile: string;
  readonly sandboxesDir: string;
  readonly stateDir: string;
  readonly containersDir: string;
}

export function processLayout(agentDir: string): ProcessLayout {
  const root = join(agentDir, 'runtime');
  return {
    root,
    ipsFile: join(root, 'ips.json'),
    sandboxesDir: join(root, 'sandboxes'),
    stateDir: join(root, 'state'),
    containersDir: join(root, 'containers'),
  };
}

export interface SandboxRecord {
  readonly id: string;
  readonly config: PodSandboxConfig;
  readonly ip: string | null;
  readonly createdAtMs: number;
  readonly ready: boolean;
}

export interface CgroupPaths {
  /** Directories of this container's cgroups (one per v1 controller, or the one v2 directory). */
  readonly directories: readonly string[];
  /** The `cgroup.procs` files the container writes its pid into before it execs. */
  readonly procsFiles: readonly string[];
  /** Where the kernel counts OOM kills for the container (`memory.oom_control` v1, `memory.events` v2). */
  readonly oomCounterFile: string | null;
}

export interface ContainerRecord {
  readonly id: string;
  readonly sandboxId: string;
  readonly podUid: string;
  readonly config: ContainerConfig;
  readonly createdAtMs: number;
  readonly startedAtMs: number | null;
  /** The `sh` wrapper that waits for the container and records its exit; pid + start time (clock ticks since boot). */
  readonly wrapper: ProcessIdentity | null;
  /** The container's own process, leader of its process group. */
  readonly process: ProcessIdentity | null;
  readonly cgroups: CgroupPaths | null;
  /** Set when the command could not be started at all (not found, not executable). */
  readonly cannotRun: string | null;
  readonly workingDir: string;
}

export interface ProcessIdentity {
  readonly pid: number;
  readonly startTicks: number;
}

export interface LogOffsets {
  readonly stdout: number;
  readonly stderr: number;
  /** The container exited and its output is all in the CRI log: nothing more to copy. */
  readonly done: boolean;
}

export function containerStateDir(layout: ProcessLayout, id: string): string {
  return join(layout.stateDir, id);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, JSON.stringify(value));
  renameSync(temporary, path);
}

export function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** A small integer file (`pid`, `exit`); undefined while absent or not yet written whole. */
export function readIntegerFile(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

export function ensureLayout(layout: ProcessLayout): void {
  for (const dir of [layout.root, layout.sandboxesDir, layout.stateDir, layout.containersDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function loadSandboxRecords(layout: ProcessLayout): SandboxRecord[] {
  return readdirSync(layout.sandboxesDir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => readJson<SandboxRecord>(join(layout.sandboxesDir, name)))
    .filter((record): record is SandboxRecord => record !== undefined);
}

export function loadContainerRecords(layout: ProcessLayout): ContainerRecord[] {
  return readdirSync(layout.stateDir)
    .map((id) => readJson<ContainerRecord>(join(containerStateDir(layout, id), 'container.json')))
    .filter((record): record is ContainerRecord => record !== undefined);
}
