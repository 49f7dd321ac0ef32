/** `kubus server`: runs one member until SIGTERM or SIGINT, then stops it cleanly. */
import { createJsonLogger } from '../../../bus/index.js';
import { startServer, type MemberControlPlaneConfig } from '../../server.js';
import type { MemberApiConfig } from '../../apiserver/member-api.js';
import { nodeCredentialsLimits } from '../../apiserver/http/node-credentials.js';
import { parseList } from './store-connection.js';
import { leaderElectionTiming, loopOptions, type ControlPlaneFlags } from './control-plane-flags.js';

export interface ServerFlags extends ControlPlaneFlags {
  readonly id: string;
  readonly dataDir: string;
  readonly nats: string;
  readonly cluster: string;
  readonly peers: string;
  readonly tickMs: string;
  readonly electionTicks: string;
  readonly heartbeatTicks: string;
  readonly mapSizeMb: string;
  readonly quotaBytes?: string;
  readonly logLevel: string;
  readonly join?: boolean;
  readonly snapshotEvery: string;
  readonly apiPort?: string;
  readonly apiHost: string;
  readonly credentialsDir?: string;
  readonly apiMaxInFlight: string;
  /** `--node-credentials-ttl <seconds>`: lifetime of a node agent's NATS user and API token. */
  readonly nodeCredentialsTtl?: string;
  /** commander's `--no-scheduler` / `--no-controller-manager`: true unless turned off. */
  readonly scheduler: boolean;
  readonly controllerManager: boolean;
  /** `--service-cluster-ip-range`, `--service-node-port-range` (checked by the API's allocators at start). */
  readonly serviceClusterIpRange: string;
  readonly serviceNodePortRange: string;
  readonly advertiseAddress?: string;
}

function positiveInteger(value: string, flag: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${flag} must be a positive whole number, got "${value}"`);
  return parsed;
}

function apiConfig(flags: ServerFlags): MemberApiConfig {
  const port = Number(flags.apiPort);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--api-port must be a port number (0 picks a free one), got "${flags.apiPort}"`);
  if (flags.credentialsDir === undefined) throw new Error('--api-port needs --credentials-dir (the directory `kubus up` writes pki/ and tokens.csv to)');
  return {
    host: flags.apiHost, port, credentialsDir: flags.credentialsDir, inFlightMax: positiveInteger(flags.apiMaxInFlight, '--api-max-in-flight'),
    ...(flags.nodeCredentialsTtl !== undefined ? { nodeCredentialsTtlMs: nodeCredentialsTtlMs(flags.nodeCredentialsTtl) } : {}),
    serviceClusterIpRange: flags.serviceClusterIpRange, serviceNodePortRange: flags.serviceNodePortRange,
    ...(flags.advertiseAddress !== undefined ? { advertiseAddress: flags.advertiseAddress } : {}),
  };
}

function nodeCredentialsTtlMs(value: string): number {
  const ms = positiveInteger(value, '--node-credentials-ttl') * 1000;
  const { ttlMsMin, ttlMsMax } = nodeCredentialsLimits;
  if (ms < ttlMsMin || ms > ttlMsMax) throw new Error(`--node-credentials-ttl must be between ${ttlMsMin / 1000} and ${ttlMsMax / 1000} seconds, got ${value}`);
  return ms;
}

/** The bus admits only minted users: a member needs the directory holding the cluster's NATS keys. */
function requireCredentialsDir(flags: ServerFlags): string {
  if (flags.credentialsDir === undefined) throw new Error('--credentials-dir is required: the member mints its NATS user from the cluster keys in <dir>/nats/ (`kubus up` creates them)');
  return flags.credentialsDir;
}

function quotaBytes(flags: ServerFlags): number {
  const quota = positiveInteger(flags.quotaBytes ?? '', '--quota-bytes');
  if (quota > positiveInteger(flags.mapSizeMb, '--map-size-mb') * 1024 * 1024) throw new Error(`--quota-bytes ${quota} must not exceed the map size (--map-size-mb ${flags.mapSizeMb})`);
  return quota;
}

/** The scheduler and controller manager in this member, unless turned off; checked before anything starts. */
function controlPlaneConfig(flags: ServerFlags): MemberControlPlaneConfig {
  const timing = leaderElectionTiming(flags);
  return {
    run: {
      controllerManager: flags.controllerManager !== false, scheduler: flags.scheduler !== false,
      cloudControllerManager: typeof flags.cloudProvider === 'string' && flags.cloudProvider !== '',
    },
    ...(flags.controllers !== undefined ? { controllers: flags.controllers } : {}),
    timing,
    options: loopOptions(flags, timing),
  };
}

/** How long a clean stop may take before the process exits anyway: `kubus down` waits 5 s. */
const stopTimeoutMs = 4_000;

export async function runServerCommand(flags: ServerFlags): Promise<void> {
  const peers = parseList(flags.peers);
  const joining = flags.join === true;
  if (!joining && !peers.includes(flags.id)) throw new Error(`--id ${flags.id} is not one of --peers ${peers.join(',')} (to add a new member, run \`kubus member add ${flags.id}\` and start it with --join)`);
  const logger = createJsonLogger({ level: flags.logLevel, fields: { member: flags.id } });
  const server = await startServer({
    cluster: flags.cluster,
    id: flags.id,
    dataDir: flags.dataDir,
    natsServers: parseList(flags.nats),
    credentialsDir: requireCredentialsDir(flags),
    peers,
    joining,
    timing: {
      tickMs: positiveInteger(flags.tickMs, '--tick-ms'),
      electionTicks: positiveInteger(flags.electionTicks, '--election-ticks'),
      heartbeatTicks: positiveInteger(flags.heartbeatTicks, '--heartbeat-ticks'),
    },
    snapshotEveryEntries: positiveInteger(flags.snapshotEvery, '--snapshot-every'),
    ...(flags.apiPort !== undefined ? { api: apiConfig(flags), controlPlane: controlPlaneConfig(flags) } : {}),
    mapSizeBytes: positiveInteger(flags.mapSizeMb, '--map-size-mb') * 1024 * 1024,
    ...(flags.quotaBytes !== undefined ? { quotaBytes: quotaBytes(flags) } : {}),
    logger,
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    // A clean stop drains NATS; with the NATS server gone that could wait forever, so it is bounded.
    setTimeout(() => {
      logger.warn('clean stop did not finish in time; exiting', { afterMs: stopTimeoutMs });
      process.exit(1);
    }, stopTimeoutMs).unref();
    server.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
