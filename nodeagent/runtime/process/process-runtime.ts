/**
 * The `process` runtime: each container's `command` + `args` run as host processes, a process
 * group per container, started through a small `sh` wrapper that outlives the agent and records
 * the exit status (wrapper.ts: the design and its costs), output copied into rotated CRI logs
 * (output-tailer.ts), one loopback address per pod (pod-network.ts), limits in cgroups where the
 * host allows (cgroups.ts). `image` is recorded, never pulled.
 *
 * - Environment and volumes: exactly the container's env plus PATH; mounts as symlinks in the
 *   working directory and KUBUS_MOUNT_<PATH> variables (container-files.ts). Working directory:
 *   `workingDir` when it exists on the host, else `<dir>/runtime/containers/<id>/`.
 * - Stop: SIGTERM to the group, SIGKILL after the grace; statuses as a shell reports them
 *   (143/137), reasons Completed / Error / OOMKilled (cgroup OOM count) / ContainerCannotRun
 *   (command not found or not executable, checked before anything starts: exit code 127).
 * - Adoption: everything is in files (layout.ts); a new instance over the same `--dir` lists what
 *   the last one ran; a process is taken for ours only if its pid *and* start time match; exits
 *   are learned from the wrapper's record (at once for our own children, within a poll for
 *   adopted ones).
 * - Interactive exec (piped, or on a terminal through `script`: exec-session.ts), attach (the
 *   main process's raw output and its stdin FIFO: attach-session.ts) and port-forward (a local
 *   TCP connection to the pod address: streams.ts). Stats count only the container's process
 *   group (a process that leaves it with setsid is not counted); an interactive exec joins the
 *   container's cgroups, execSync (probes, hooks) runs outside them.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TimerId } from '../../../bus/clock.js';
import {
  ContainerCapacityError, ContainerCommandMissingError, ContainerStateError, RuntimeUnsupportedError,
} from '../errors.js';
import { EventHub } from '../event-hub.js';
import { requireContainer, requireSandbox } from '../lookup.js';
import { containerRuntimeLimits as limits } from '../limits.js';
import { systemWallClock, type RuntimeOptions } from '../options.js';
import type {
  ContainerConfig, ContainerEvent, ContainerRuntime, ContainerStats, ContainerStatus, ExecRequest, ExecResult, ExecSession, PodSandboxConfig,
  PodSandboxStatus, RuntimeStatus, AttachRequest, ImagePullPolicy, ImagePullAuth, ImageInfo, ImageFsUsage,
} from '../types.js';
import { createContainerCgroups, detectCgroups, removeContainerCgroups, type CgroupSupport } from './cgroups.js';
import { observeContainer, type DecidedState } from './container-state.js';
import { runExecSync } from './exec-sync.js';
import {
  containerStateDir, ensureLayout, loadContainerRecords, loadSandboxRecords, processLayout, readIntegerFile, writeJsonAtomic,
  type ContainerRecord, type ProcessLayout, type SandboxRecord,
} from './layout.js';
import { OutputTailer } from './output-tailer.js';
import { pollUntil } from './poll-until.js';
import { PodNetwork } from './pod-network.js';
import { processGroupUsage, processIdentity, signalGroup } from './proc.js';
import { commandProblem, findSetsid, spawnWrapper } from './wrapper.js';
import { containerEnvironment, linkMounts } from './container-files.js';
import { containerStatus, sandboxStatus } from './views.js';
import { connectPort } from './streams.js';
import { startExec } from './exec-session.js';
import { startAttach } from './attach-session.js';
import { makeStdinFifo } from './wrapper.js';
import { addDnsEnvironment, writePodResolvConf } from './pod-dns.js';

export class ProcessRuntime implements ContainerRuntime {
  readonly name = 'process' as const;
  private readonly layout: ProcessLayout;
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly tailers = new Map<string, OutputTailer>();
  /** Containers whose exit this instance knows (reported, or already exited when adopted): no second `exited` event. */
  private readonly exitKnown = new Set<string>();
  private readonly children = new Map<string, ChildProcess>();
  private readonly events: EventHub;
  private readonly network: PodNetwork;
  private readonly wallClock: () => Date;
  private readonly cgroups: CgroupSupport;
  private readonly setsidPath: string | null;
  private pollTimer: TimerId | null = null;

  constructor(private readonly options: RuntimeOptions) {
    this.layout = processLayout(options.dir);
    ensureLayout(this.layout);
    this.events = new EventHub(options.logger);
    this.wallClock = options.wallClock ?? systemWallClock;
    this.network = new PodNetwork(this.layout.ipsFile, options.podCidr, options.nodeIp, options.logger);
    this.cgroups = detectCgroups();
    this.setsidPath = findSetsid();
    for (const record of loadSandboxRecords(this.layout)) this.sandboxes.set(record.id, record);
    for (const record of loadContainerRecords(this.layout)) {
      this.containers.set(record.id, record);
      if (this.observe(record).state === 'exited') this.exitKnown.add(record.id);
    }
    this.schedulePoll();
  }

  async version(): Promise<{ readonly runtimeName: string; readonly runtimeVersion: string }> {
    return { runtimeName: 'kubus-process', runtimeVersion: '0.1.0' };
  }

  async status(): Promise<RuntimeStatus> {
    const notes = [
      this.setsidPath === null ? 'setsid (util-linux) is missing: containers cannot start' : null,
      this.cgroups.version === 'none' ? `resource limits are not enforced: ${this.cgroups.reason}` : null,
      this.network.note(),
    ].filter((note): note is string => note !== null);
    return {
      runtimeReady: this.setsidPath !== null,
      networkReady: this.options.podCidr() !== null,
      resourceLimitsEnforced: this.cgroups.version !== 'none',
      message: notes.length === 0 ? null : notes.join('; '),
    };
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const id = newId();
    const ip = this.network.assign(id, config);
    this.saveSandbox({ id, config, ip, createdAtMs: this.wallMs(), ready: true });
    // The pod's resolver settings as a file (pod-dns.ts); a pod without it still runs, told by env only.
    try {
      writePodResolvConf(config);
    } catch (error) {
      this.options.logger.warn('cannot write the pod resolv.conf', { pod: `${config.namespace}/${config.name}`, error: String(error) });
    }
    return id;
  }

  async stopPodSandbox(sandboxId: string): Promise<void> {
    const sandbox = requireSandbox(this.sandboxes, sandboxId);
    for (const record of this.containersOf(sandboxId)) await this.stopContainer(record.id, 0);
    this.network.release(sandboxId);
    this.saveSandbox({ ...sandbox, ready: false });
  }

  async removePodSandbox(sandboxId: string): Promise<void> {
    if (!this.sandboxes.has(sandboxId)) return;
    await this.stopPodSandbox(sandboxId);
    for (const record of this.containersOf(sandboxId)) await this.removeContainer(record.id);
    rmSync(join(this.layout.sandboxesDir, `${sandboxId}.json`), { force: true });
    this.sandboxes.delete(sandboxId);
  }

  async podSandboxStatus(sandboxId: string): Promise<PodSandboxStatus | null> {
    const record = this.sandboxes.get(sandboxId);
    return record === undefined ? null : sandboxStatus(record);
  }

  async listPodSandboxes(): Promise<readonly PodSandboxStatus[]> {
    return [...this.sandboxes.values()].map(sandboxStatus);
  }

  async createContainer(sandboxId: string, config: ContainerConfig, sandbox: PodSandboxConfig): Promise<string> {
    requireSandbox(this.sandboxes, sandboxId);
    if (config.command.length === 0) throw new ContainerCommandMissingError(config.name);
    if (this.containers.size >= limits.containersMax) throw new ContainerCapacityError(limits.containersMax);
    const id = newId();
    const workingDir = join(this.layout.containersDir, id);
    mkdirSync(containerStateDir(this.layout, id), { recursive: true, mode: 0o700 });
    mkdirSync(workingDir, { recursive: true });
    linkMounts(workingDir, config.mounts);
    this.saveContainer({
      id, sandboxId, podUid: sandbox.uid, config, createdAtMs: this.wallMs(), startedAtMs: null, wrapper: null, process: null,
      cgroups: null, cannotRun: null, workingDir,
    });
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    const record = requireContainer(this.containers, containerId);
    const state = this.observe(record).state;
    if (state !== 'created') throw new ContainerStateError(containerId, state, 'start');
    const env = this.environmentOf(record);
    const cwd = this.cwdOf(record);
    const [command = ''] = record.config.command;
    const problem = this.setsidPath === null ? 'setsid (util-linux) is not installed on this host' : commandProblem(command, env, cwd);
    if (problem !== null || this.setsidPath === null) {
      this.saveContainer({ ...record, startedAtMs: this.wallMs(), cannotRun: problem });
      this.reportExit(containerId);
      return;
    }
    const cgroups = this.containerCgroups(record);
    const stateDir = containerStateDir(this.layout, containerId);
    // stdin: true: a FIFO the container holds open (wrapper.ts), for attach to write into.
    if (record.config.stdin === true) makeStdinFifo(stateDir);
    const child = spawnWrapper({ stateDir, setsidPath: this.setsidPath, cgroupProcsFiles: cgroups?.procsFiles ?? [], command: [...record.config.command, ...record.config.args], env, cwd });
    const wrapper = child.pid === undefined ? null : processIdentity(child.pid) ?? null;
    this.saveContainer({ ...record, startedAtMs: this.wallMs(), wrapper, cgroups });
    this.children.set(containerId, child);
    child.on('exit', () => {
      this.children.delete(containerId);
      this.check(containerId);
    });
    this.emit('started', containerId);
    const pid = await this.waitForPid(stateDir, child);
    const current = this.containers.get(containerId);
    if (pid !== undefined && current !== undefined) {
      this.saveContainer({ ...current, process: processIdentity(pid) ?? { pid, startTicks: -1 } });
    }
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    const record = requireContainer(this.containers, containerId);
    if (this.observe(record).state !== 'running') return;
    const group = record.process?.pid ?? readIntegerFile(join(containerStateDir(this.layout, containerId), 'pid'));
    if (group === undefined) return;
    if (timeoutSeconds > 0) {
      signalGroup(group, 'SIGTERM');
      if (await this.waitForExit(record, timeoutSeconds * 1000)) return this.check(containerId);
    }
    signalGroup(group, 'SIGKILL');
    await this.waitForExit(record, limits.killSettleMs);
    this.check(containerId);
  }

  async removeContainer(containerId: string): Promise<void> {
    const record = this.containers.get(containerId);
    if (record === undefined) return;
    await this.stopContainer(containerId, 0);
    this.tailers.get(containerId)?.close();
    this.tailers.delete(containerId);
    removeContainerCgroups(record.cgroups);
    rmSync(containerStateDir(this.layout, containerId), { recursive: true, force: true });
    rmSync(record.workingDir, { recursive: true, force: true });
    this.containers.delete(containerId);
    this.exitKnown.delete(containerId);
  }

  async containerStatus(containerId: string): Promise<ContainerStatus | null> {
    const record = this.containers.get(containerId);
    return record === undefined ? null : containerStatus(record, this.observe(record));
  }

  async listContainers(filter?: { readonly sandboxId?: string }): Promise<readonly ContainerStatus[]> {
    const records = [...this.containers.values()].filter((record) => filter?.sandboxId === undefined || record.sandboxId === filter.sandboxId);
    return records.map((record) => containerStatus(record, this.observe(record)));
  }

  async execSync(containerId: string, command: readonly string[], timeoutMs: number): Promise<ExecResult> {
    const record = requireContainer(this.containers, containerId);
    const env = this.environmentOf(record);
    return runExecSync(command, { env, cwd: this.cwdOf(record), timeoutMs, clock: this.options.clock });
  }

  async exec(containerId: string, request: ExecRequest): Promise<ExecSession> {
    const record = requireContainer(this.containers, containerId);
    const state = this.observe(record).state;
    if (state !== 'running') throw new ContainerStateError(containerId, state, 'exec in');
    return startExec(request, { env: this.environmentOf(record), cwd: this.cwdOf(record), cgroupProcsFiles: record.cgroups?.procsFiles ?? [], clock: this.options.clock });
  }

  async attach(containerId: string, request: AttachRequest): Promise<ExecSession> {
    const record = requireContainer(this.containers, containerId);
    const state = this.observe(record).state;
    if (state !== 'running') throw new ContainerStateError(containerId, state, 'attach to');
    return startAttach(request, {
      stateDir: containerStateDir(this.layout, containerId),
      clock: this.options.clock,
      exitCode: () => {
        const decided = this.observe(this.containers.get(containerId) ?? record);
        return decided.state === 'exited' ? decided.exitCode ?? -1 : null;
      },
    });
  }

  // A host process has no image: every reference is "present".
  async ensureImage(_image: string, _policy: ImagePullPolicy, _auth: readonly ImagePullAuth[]): Promise<void> {}
  async listImages(): Promise<readonly ImageInfo[]> {
    return [];
  }
  async removeImage(imageId: string): Promise<void> {
    throw new RuntimeUnsupportedError('process', 'removeImage', `the process runtime has no images (asked to remove ${imageId})`);
  }
  async imageFsUsage(): Promise<ImageFsUsage | null> {
    return null;
  }

  async portForward(sandboxId: string, port: number): Promise<Duplex> {
    const sandbox = requireSandbox(this.sandboxes, sandboxId);
    return connectPort(sandboxId, sandbox.ip ?? this.options.nodeIp, port);
  }

  async containerStats(containerId: string): Promise<ContainerStats | null> {
    const record = this.containers.get(containerId);
    if (record === undefined) return null;
    const running = this.observe(record).state === 'running' && record.process !== null;
    const usage = running && record.process !== null ? processGroupUsage(record.process.pid) : { cpuUsageNanos: 0, rssBytes: 0 };
    return { containerId, timestampMs: this.wallMs(), cpuUsageNanos: usage.cpuUsageNanos, memoryWorkingSetBytes: usage.rssBytes };
  }

  onEvent(listener: (event: ContainerEvent) => void): () => void {
    return this.events.subscribe(listener);
  }

  async close(): Promise<void> {
    if (this.pollTimer !== null) this.options.clock.clearTimeout(this.pollTimer);
    this.pollTimer = null;
    for (const tailer of this.tailers.values()) tailer.close();
    this.tailers.clear();
    for (const child of this.children.values()) child.removeAllListeners('exit');
    this.children.clear();
  }

  /** Copies output and notices exits of every container; own children's exits are also noticed at once (check). */
  private schedulePoll(): void {
    this.pollTimer = this.options.clock.setTimeout(() => {
      for (const id of [...this.containers.keys()]) {
        try {
          this.check(id);
        } catch (error) {
          this.options.logger.warn('process runtime poll failed', { containerId: id, error: String(error) });
        }
      }
      this.schedulePoll();
    }, limits.processPollMs);
  }

  private check(containerId: string): void {
    const record = this.containers.get(containerId);
    if (record === undefined || record.startedAtMs === null) return;
    // An exit already reported whose output is all copied needs no more reading of /proc or files.
    if (this.exitKnown.has(containerId) && (record.cannotRun !== null || this.tailers.get(containerId)?.done === true)) return;
    const exited = this.observe(record).state === 'exited';
    this.tailer(record)?.poll(exited);
    if (exited && !this.exitKnown.has(containerId)) this.reportExit(containerId);
  }

  private reportExit(containerId: string): void {
    const record = this.containers.get(containerId);
    if (record === undefined || this.exitKnown.has(containerId)) return;
    this.exitKnown.add(containerId);
    const decided = this.observe(record);
    if (record.process !== null && decided.finishedAtMs !== null && this.wallMs() - decided.finishedAtMs < limits.stragglerKillWindowMs) {
      signalGroup(record.process.pid, 'SIGKILL');
    }
    this.tailer(record)?.poll(true);
    this.emit('exited', containerId);
  }

  private observe(record: ContainerRecord): DecidedState {
    return observeContainer(record, containerStateDir(this.layout, record.id), this.wallMs());
  }

  private tailer(record: ContainerRecord): OutputTailer | undefined {
    if (record.cannotRun !== null) return undefined;
    let tailer = this.tailers.get(record.id);
    if (tailer === undefined) {
      tailer = new OutputTailer(containerStateDir(this.layout, record.id), record.config.logPath, this.wallClock);
      this.tailers.set(record.id, tailer);
    }
    return tailer;
  }

  private containerCgroups(record: ContainerRecord): ContainerRecord['cgroups'] {
    try {
      return createContainerCgroups(this.cgroups, record.id, record.config.resources);
    } catch (error) {
      this.options.logger.warn('container cgroups could not be created: limits not enforced for it', { containerId: record.id, error: String(error) });
      return null;
    }
  }

  /** The container's pid once it wrote it (its first act), or undefined when the wrapper ended or the wait's bound passed first. */
  private async waitForPid(stateDir: string, child: ChildProcess): Promise<number | undefined> {
    const pidOf = () => readIntegerFile(join(stateDir, 'pid'));
    await pollUntil(this.options.clock, { intervalMs: limits.containerPidPollMs, timeoutMs: limits.containerPidWaitMs }, () => (
      pidOf() !== undefined || child.exitCode !== null || child.signalCode !== null
    ));
    return pidOf();
  }

  /** True once the wrapper recorded an exit (or the processes are gone), false when `waitMs` passed first. */
  private waitForExit(record: ContainerRecord, waitMs: number): Promise<boolean> {
    return pollUntil(this.options.clock, { intervalMs: limits.stopPollMs, timeoutMs: waitMs }, () => this.observe(this.containers.get(record.id) ?? record).state !== 'running');
  }

  /** The environment the container's command got: its env, PATH, the pod's DNS settings, HOSTNAME (exec sees the same). */
  private environmentOf(record: ContainerRecord): Map<string, string> {
    const env = containerEnvironment(record.config, process.env['PATH']);
    const sandboxConfig = this.sandboxes.get(record.sandboxId)?.config;
    addDnsEnvironment(env, sandboxConfig);
    // As container runtimes do: the pod's hostname (its name, or spec.hostname) in HOSTNAME, unless the pod sets it.
    if (!env.has('HOSTNAME') && sandboxConfig !== undefined) env.set('HOSTNAME', sandboxConfig.hostname);
    return env;
  }

  private cwdOf(record: ContainerRecord): string {
    const wanted = record.config.workingDir;
    return wanted !== undefined && existsSync(wanted) ? wanted : record.workingDir;
  }

  private containersOf(sandboxId: string): ContainerRecord[] {
    return [...this.containers.values()].filter((record) => record.sandboxId === sandboxId);
  }

  private saveSandbox(record: SandboxRecord): void {
    writeJsonAtomic(join(this.layout.sandboxesDir, `${record.id}.json`), record);
    this.sandboxes.set(record.id, record);
  }

  private saveContainer(record: ContainerRecord): void {
    writeJsonAtomic(join(containerStateDir(this.layout, record.id), 'container.json'), record);
    this.containers.set(record.id, record);
  }

  private emit(type: ContainerEvent['type'], containerId: string): void {
    const record = this.containers.get(containerId);
    if (record !== undefined) this.events.emit({ type, containerId, sandboxId: record.sandboxId, podUid: record.podUid });
  }

  private wallMs(): number {
    return this.wallClock().getTime();
  }
}

function newId(): string {
  return randomBytes(8).toString('hex');
}
