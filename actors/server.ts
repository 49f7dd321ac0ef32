/**
 * Composition root of a control-plane member process: the only place that creates the real bus
 * (NATS), clock, randomness and disk (LMDB), and hands them to the actors. A member hosts the
 * store member actor and the API server; the leader-elected controllers join it here.
 *
 * Decision: the member authenticates to NATS as its own user, minted at start from the cluster's
 * credentials directory (`nats/`, see bus/nats-credentials.ts): it may send Raft messages only as
 * itself. Its files hold every Secret, so the process umask is 077 and the data directory tree is
 * set to 0700/0600 explicitly (also one created by an older version with 0755/0644).
 */
import { createActor, waitFor, type ActorRefFrom } from 'xstate';
import { randomInt } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NatsBus, SystemClock, Prng, loadNatsCredentials, type Logger } from '../bus/index.js';
import { openMemberStorage, StoreStoppedError, storeMemberMachine, type MemberId, type RaftTiming } from '../store/index.js';
import type { MemberApiConfig, RunningMemberApi } from './apiserver/member-api.js';
import type { ControlPlaneConfig, RunningControlPlane } from './controllers/controller-manager.js';
import { createMemberTelemetry, storeObserver } from '../bus/telemetry/index.js';

/** The control-plane components a member runs (each active only while it holds its Lease). */
export type MemberControlPlaneConfig = Pick<ControlPlaneConfig, 'run' | 'controllers' | 'timing' | 'options'>;

export interface ServerConfig {
  readonly cluster: string;
  readonly id: MemberId;
  readonly dataDir: string;
  readonly natsServers: readonly string[];
  /** The cluster's credentials directory: the member mints its NATS user from `nats/` in it. */
  readonly credentialsDir: string;
  readonly peers: readonly MemberId[];
  /** A joining member starts with no configuration and takes it from the leader's snapshot. */
  readonly joining: boolean;
  readonly timing: RaftTiming;
  readonly mapSizeBytes: number;
  /** The store's space quota (NOSPACE alarm beyond it); default 3/4 of the map size. */
  readonly quotaBytes?: number;
  readonly snapshotEveryEntries: number;
  /** Serve the Kubernetes API from this member (HTTPS); absent: the store only. */
  readonly api?: MemberApiConfig;
  /** With the API: run the leader-elected scheduler and controller manager in this member too. */
  readonly controlPlane?: MemberControlPlaneConfig;
  readonly logger: Logger;
}

export interface RunningServer {
  readonly member: ActorRefFrom<typeof storeMemberMachine>;
  readonly apiUrl: string | null;
  stop(): Promise<void>;
}

/** How long start-up may take to open the store before the process gives up (typed error). */
const openTimeoutMs = 60_000;

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const { logger } = config;
  // Process-wide on purpose: LMDB, snapshots and logs create files below; none may be world-readable.
  process.umask(0o077);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  restrictTree(config.dataDir);
  const clock = new SystemClock();
  // Wall time (JWT issue date), read here in the composition root; the member user never expires.
  const user = await loadNatsCredentials(config.credentialsDir).mintMember(config.cluster, config.id, Date.now());
  const bus = await NatsBus.connect({
    servers: [...config.natsServers],
    name: `kubus-${config.cluster}-${config.id}`,
    user,
    connectTimeoutMs: 5_000,
    reconnect: true,
    logger,
  });
  // Prometheus series of this member (API requests, store proposals, Raft), served on the API port's /metrics.
  const telemetry = createMemberTelemetry({ labels: { member: config.id } });
  const member = createActor(storeMemberMachine, {
    clock,
    input: {
      cluster: config.cluster,
      self: config.id,
      initialMembers: config.joining ? [] : config.peers,
      bus,
      clock,
      random: new Prng(randomInt(2 ** 31)),
      timing: config.timing,
      snapshotEveryEntries: config.snapshotEveryEntries,
      // After the I/O callbacks of this loop turn: every request that arrived together shares a Ready.
      defer: (fn) => void setImmediate(fn),
      logger,
      observer: storeObserver(telemetry.store),
      // `<dataDir>/store` (LMDB, the state machine) and `<dataDir>/wal` (the Raft log); migrated on first open.
      openStorage: () => openMemberStorage(config.dataDir, { mapSizeBytes: config.mapSizeBytes, ...(config.quotaBytes !== undefined ? { quotaBytes: config.quotaBytes } : {}), logger }),
    },
  });
  member.on('raft.leaderChanged', (event) => {
    logger.info('raft role changed', { role: event.role, leader: event.leader, term: event.term });
  });
  member.start();
  const settled = await waitFor(member, (snapshot) => !snapshot.matches('opening'), { timeout: openTimeoutMs });
  if (settled.matches('failed')) {
    const error = settled.context.error ?? new Error('store member failed to start');
    member.stop();
    await bus.close();
    throw error;
  }
  restrictTree(config.dataDir); // what LMDB and the WAL created before the umask reached it, or with their own modes
  logger.info('store member running', { id: config.id, peers: config.peers, dataDir: config.dataDir, natsUser: user.name, natsUserKey: user.publicKey });
  let api: RunningMemberApi | null = null;
  let controlPlane: RunningControlPlane | null = null;
  try {
    if (config.api !== undefined) {
      // Loaded only when serving the API: a store-only member does not pay for the HTTP stack.
      const { startMemberApi } = await import('./apiserver/member-api.js');
      api = await startMemberApi({
        config: config.api, bus, cluster: config.cluster, self: config.id, members: config.peers, natsServers: config.natsServers, logger,
        driver: () => member.getSnapshot().context.driver, telemetry,
        // In-process store calls while this member's service runs (no NATS hop to ourselves); null until then.
        localStore: (request) => {
          const service = member.getSnapshot().context.service;
          if (service === null) return Promise.reject(new StoreStoppedError());
          return service.handleLocal(request);
        },
      });
      const wanted = config.controlPlane;
      if (wanted !== undefined && (wanted.run.controllerManager || wanted.run.scheduler || wanted.run.cloudControllerManager === true)) {
        const { startControlPlane } = await import('./controllers/controller-manager.js');
        controlPlane = await startControlPlane({
          ...wanted, cluster: config.cluster, natsServers: config.natsServers, credentialsDir: config.api.credentialsDir,
          identity: config.id, clock, logger,
        });
      }
    }
  } catch (error) {
    await api?.close().catch(() => undefined);
    member.send({ type: 'member.stop' });
    member.stop();
    await bus.close();
    throw error;
  }
  return {
    member,
    apiUrl: api?.url ?? null,
    async stop() {
      // Loops first: they release their Leases through this member's API, so another member takes over at once.
      await controlPlane?.stop().catch((error: unknown) => logger.warn('control-plane components did not stop cleanly', { error }));
      await api?.close();
      member.send({ type: 'member.stop' });
      member.stop();
      await bus.close();
    },
  };
}

/** Directories 0700, files 0600, below and including `dir`. */
function restrictTree(dir: string): void {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) restrictTree(path);
    else if (entry.isFile()) chmodSync(path, 0o600);
  }
}
