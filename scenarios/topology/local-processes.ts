/**
 * A store cluster as real OS processes on loopback: one nats-server and N `kubus server` members,
 * each its own process with its own LMDB directory. Faults act on pids we started, never by name:
 * kill -9, SIGSTOP/SIGCONT, restart with the same argv and data.
 *
 * Used by the integration suites, the benchmark and (later) `kubus chaos`.
 *
 * The bus is closed as in `kubus up`: NATS keys in the credentials directory (`apiCredentialsDir`,
 * else `<dir>/credentials`), nats-server in operator mode, each member minting its own user, and
 * the cluster's own client connection a test user allowed on every subject. `connectAs` opens a
 * connection as any minted user, for suites that check what a user may and may not do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { NatsBus, NatsServerProcess, Prng, SystemClock, ensureNatsCredentials, freePort, type Bus, type Logger, type NatsCredentials, type NatsUser } from '../../bus/index.js';
import { StoreClient, type MemberStatus } from '../../store/index.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

export interface LocalClusterOptions {
  readonly dir: string;
  readonly members: number;
  readonly cluster?: string;
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly snapshotEvery?: number;
  /** Serve the Kubernetes API from every member, with the credentials in this directory (see credentials.ts). */
  readonly apiCredentialsDir?: string;
  /** Extra `kubus server` flags for every member (e.g. `--api-max-in-flight 20`). */
  readonly serverArgs?: readonly string[];
  /** Extra `kubus server` flags for one member, after serverArgs (e.g. `{ s3: ['--no-scheduler'] }`). */
  readonly memberArgs?: Readonly<Record<string, readonly string[]>>;
  /** Extra environment for member processes. */
  readonly env?: Readonly<Record<string, string>>;
  /** Node flags for member processes, before the script (e.g. `--cpu-prof --cpu-prof-dir <dir>` to profile them). */
  readonly execArgv?: readonly string[];
  /**
   * stop() sends SIGTERM and gives members this long to exit cleanly before SIGKILL (default 0:
   * SIGKILL at once). Node writes a `--cpu-prof` profile only on a clean exit.
   */
  readonly stopGraceMs?: number;
}

interface MemberProcess {
  readonly id: string;
  readonly apiUrl: string | null;
  readonly argv: readonly string[];
  child: ChildProcess | null;
  log: WriteStream;
  paused: boolean;
}

export class LocalCluster {
  readonly cluster: string;
  readonly memberIds: string[];
  private nats: NatsServerProcess | null = null;
  private readonly processes = new Map<string, MemberProcess>();
  private clientBus: Bus | null = null;
  private readonly extraBuses: NatsBus[] = [];
  private credentials: NatsCredentials | null = null;

  constructor(private readonly options: LocalClusterOptions) {
    this.cluster = options.cluster ?? 'kubus';
    this.memberIds = Array.from({ length: options.members }, (_, i) => `s${i + 1}`);
  }

  natsUrl(): string {
    if (this.nats === null) throw new Error('LocalCluster: not started');
    return this.nats.url;
  }

  /** Where the NATS keys (and, with the API, the PKI and tokens) are: members get it as --credentials-dir. */
  credentialsDir(): string {
    return this.options.apiCredentialsDir ?? join(this.options.dir, 'credentials');
  }

  /** The cluster's NATS authority, to mint users (connectAs) or revoke them. */
  natsCredentials(): NatsCredentials {
    if (this.credentials === null) throw new Error('LocalCluster: not started');
    return this.credentials;
  }

  async start(): Promise<void> {
    mkdirSync(join(this.options.dir, 'logs'), { recursive: true });
    this.credentials = ensureNatsCredentials(this.credentialsDir());
    this.nats = await NatsServerProcess.start({ maxPayloadBytes: 4 * 1024 * 1024, auth: await this.credentials.serverConfig() });
    for (const id of this.memberIds) this.spawnMember(id, this.memberIds, false, this.options.apiCredentialsDir === undefined ? null : await freePort());
    // The harness's own connection may use any subject: suites also run API fronts of their own under
    // other cluster names on this server. What members and components may do is theirs (connectAs).
    const harness = await this.credentials.mintUser('local-cluster', { permissions: { publish: ['>'], subscribe: ['>'] }, restrictInbox: false, ttlMs: null, nowMs: Date.now() });
    this.clientBus = await NatsBus.connect({ servers: [this.natsUrl()], name: 'local-cluster', user: harness, connectTimeoutMs: 5_000, reconnect: true });
  }

  /** A connection as `user` (closed by stop()); `reconnect: false`, so a revoked user stays out. */
  async connectAs(user: NatsUser, options: { name?: string; logger?: Logger } = {}): Promise<NatsBus> {
    const bus = await NatsBus.connect({
      servers: [this.natsUrl()], name: options.name ?? user.name, user, connectTimeoutMs: 5_000, reconnect: false,
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
    });
    this.extraBuses.push(bus);
    return bus;
  }

  /** A store client on its own bus connection; the cluster closes it on stop. */
  async client(): Promise<StoreClient> {
    return new StoreClient({
      bus: this.bus(),
      cluster: this.cluster,
      members: this.memberIds,
      clock: new SystemClock(),
      random: new Prng(randomInt(2 ** 31)),
    });
  }

  bus(): Bus {
    if (this.clientBus === null) throw new Error('LocalCluster: not started');
    return this.clientBus;
  }

  pid(id: string): number | null {
    return this.processes.get(id)?.child?.pid ?? null;
  }

  /** The nats-server's pid (CPU accounting: the bus is part of the store's path). */
  natsPid(): number | null {
    return this.nats?.pid ?? null;
  }

  /** Waits until one member leads and the given members (default: all running) report it. */
  async waitForLeader(options: { timeoutMs: number; among?: readonly string[] }): Promise<string> {
    const among = options.among ?? this.memberIds.filter((id) => this.isRunning(id));
    const client = await this.client();
    const deadline = Date.now() + options.timeoutMs;
    let last = 'no member answered';
    while (Date.now() < deadline) {
      const statuses = await Promise.all(among.map((id) => client.status(id, { timeoutMs: 500 }).catch(() => null)));
      const leaders = new Set(statuses.filter((s): s is MemberStatus => s !== null && s.role === 'leader').map((s) => s.id));
      const agreed = statuses.every((s) => s !== null && s.leader !== null && leaders.has(s.leader));
      if (leaders.size === 1 && agreed) return [...leaders][0] as string;
      last = JSON.stringify(statuses.map((s) => s && { id: s.id, role: s.role, leader: s.leader, term: s.term }));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no agreed leader within ${options.timeoutMs} ms: ${last}`);
  }

  dataDir(id: string): string {
    return join(this.options.dir, id);
  }

  logPath(id: string): string {
    return join(this.options.dir, 'logs', `${id}.log`);
  }

  /** Waits for a member process to exit by itself; answers its exit code (null: killed by a signal). */
  async waitForExit(id: string, timeoutMs: number): Promise<number | null> {
    const child = this.require(id).child;
    if (child === null) return null;
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
    const outcome = await Promise.race([waitForExit(child).then(() => 'exited' as const), timer]);
    if (outcome === 'timeout') throw new Error(`${id} did not exit within ${timeoutMs} ms`);
    return child.exitCode;
  }

  isRunning(id: string): boolean {
    const member = this.processes.get(id);
    return member?.child !== null && member?.child !== undefined && member.child.exitCode === null && member.child.signalCode === null;
  }

  kill(id: string): void {
    const member = this.require(id);
    member.child?.kill('SIGKILL');
  }

  pause(id: string): void {
    const member = this.require(id);
    member.child?.kill('SIGSTOP');
    member.paused = true;
  }

  resume(id: string): void {
    const member = this.require(id);
    member.child?.kill('SIGCONT');
    member.paused = false;
  }

  /** Starts a killed member again with the same argv and data directory. */
  async restart(id: string): Promise<void> {
    const member = this.require(id);
    if (this.isRunning(id)) {
      member.child?.kill('SIGKILL');
      await waitForExit(member.child);
    }
    member.child = spawn(process.execPath, member.argv, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.options.env } });
    member.child.stdout?.pipe(member.log, { end: false });
    member.child.stderr?.pipe(member.log, { end: false });
  }

  async killAndWait(id: string): Promise<void> {
    const member = this.require(id);
    if (member.paused) this.resume(id);
    member.child?.kill('SIGKILL');
    await waitForExit(member.child);
  }

  /** Adds a process for a new member id (the cluster must have added it as a learner first). */
  addMemberProcess(id: string): void {
    this.memberIds.push(id);
    this.spawnMember(id, this.memberIds, true);
  }

  /** Forgets a member removed from the configuration: kills its process if it still runs. */
  async removeMemberProcess(id: string): Promise<void> {
    await this.killAndWait(id);
    this.memberIds.splice(this.memberIds.indexOf(id), 1);
  }

  async stop(): Promise<void> {
    await this.clientBus?.close().catch(() => undefined);
    this.clientBus = null;
    for (const bus of this.extraBuses.splice(0)) await bus.close().catch(() => undefined);
    await this.stopGracefully();
    for (const member of this.processes.values()) {
      if (member.paused) member.child?.kill('SIGCONT');
      member.child?.kill('SIGKILL');
      await waitForExit(member.child);
      member.log.end();
    }
    this.processes.clear();
    await this.nats?.stop();
    this.nats = null;
  }

  /** With stopGraceMs: SIGTERM to every running member, then up to the grace for all to exit (the rest get SIGKILL). */
  private async stopGracefully(): Promise<void> {
    const graceMs = this.options.stopGraceMs ?? 0;
    if (graceMs <= 0) return;
    const running = [...this.processes.values()].filter((member) => this.isRunning(member.id));
    for (const member of running) {
      if (member.paused) member.child?.kill('SIGCONT');
      member.child?.kill('SIGTERM');
    }
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.all(running.map((member) => waitForExit(member.child))), grace]);
    clearTimeout(timer);
  }

  /** The member's Kubernetes API URL, when the cluster serves the API. */
  apiUrl(id: string): string | null {
    return this.require(id).apiUrl;
  }

  private spawnMember(id: string, peers: readonly string[], joining = false, apiPort: number | null = null): void {
    const argv = [
      ...(this.options.execArgv ?? []), '--import', 'tsx', join(repoRoot, 'actors/cli/main.ts'), 'server',
      '--id', id, '--data-dir', join(this.options.dir, id), '--nats', this.natsUrl(), '--cluster', this.cluster, '--credentials-dir', this.credentialsDir(),
      '--peers', peers.join(','), '--tick-ms', String(this.options.tickMs ?? 50), '--election-ticks', String(this.options.electionTicks ?? 10),
      ...(apiPort !== null && this.options.apiCredentialsDir !== undefined ? ['--api-port', String(apiPort)] : []),
      ...(this.options.serverArgs ?? []), ...(this.options.memberArgs?.[id] ?? []),
      '--map-size-mb', '1024', ...(this.options.snapshotEvery !== undefined ? ['--snapshot-every', String(this.options.snapshotEvery)] : []), ...(joining ? ['--join'] : []),
    ];
    const log = createWriteStream(join(this.options.dir, 'logs', `${id}.log`), { flags: 'a' });
    const member: MemberProcess = { id, argv, child: null, log, paused: false, apiUrl: apiPort === null ? null : `https://127.0.0.1:${apiPort}` };
    this.processes.set(id, member);
    member.child = spawn(process.execPath, argv, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.options.env } });
    member.child.stdout?.pipe(log, { end: false });
    member.child.stderr?.pipe(log, { end: false });
  }

  private require(id: string): MemberProcess {
    const member = this.processes.get(id);
    if (member === undefined) throw new Error(`LocalCluster: no member ${id}`);
    return member;
  }
}

function waitForExit(child: ChildProcess | null): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
