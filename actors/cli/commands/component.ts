/**
 * `kubus controller-manager` / `kubus scheduler`: one leader-elected component as its own process,
 * for users who split the control plane as Kubernetes does. It talks to the API over NATS with the
 * component's token, as the same component inside `kubus server` does, and competes for the same
 * Lease, so it may run next to members that run it too.
 */
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SystemClock, createJsonLogger } from '../../../bus/index.js';
import { componentToken, connectComponent, startComponent, type ComponentName } from '../../controllers/controller-manager.js';
import { readClusterFile } from './cluster-file.js';
import { parseList } from './store-connection.js';
import { leaderElectionTiming, loopOptions, type ControlPlaneFlags } from './control-plane-flags.js';

export interface ComponentFlags extends ControlPlaneFlags {
  readonly nats?: string;
  readonly cluster?: string;
  readonly token?: string;
  readonly credentialsDir?: string;
  readonly dir: string;
  readonly id?: string;
  readonly logLevel: string;
}

/** How long a clean stop (release the Lease, close the connection) may take. */
const stopTimeoutMs = 4_000;

export async function runComponentCommand(component: ComponentName, flags: ComponentFlags): Promise<void> {
  const timing = leaderElectionTiming(flags);
  const recorded = readClusterFile(flags.dir);
  const nats = flags.nats ?? recorded?.natsUrl ?? 'nats://127.0.0.1:4222';
  const cluster = flags.cluster ?? recorded?.cluster ?? 'kubus';
  const credentialsDir = flags.credentialsDir ?? flags.dir;
  const identity = flags.id ?? hostname().replace(/[^A-Za-z0-9_-]/g, '-');
  const logger = createJsonLogger({ level: flags.logLevel, fields: { component, identity } });
  const token = flags.token ?? componentToken(credentialsDir, component);
  const bus = await connectComponent({ credentialsDir, cluster, natsServers: parseList(nats), component, name: `kubus-${cluster}-${identity}-${component}`, logger });
  const running = await startComponent({
    component, cluster, bus, token, identity, timing,
    ...(flags.controllers !== undefined ? { controllers: flags.controllers } : {}),
    options: { ...loopOptions(flags, timing), rootCaCertPem: readFileSync(join(credentialsDir, 'pki', 'ca.crt'), 'utf8'), credentialsDir, natsServers: parseList(nats).join(',') },
    clock: new SystemClock(), wallClock: () => new Date(), logger,
  });
  logger.info('started', { nats, cluster, leaseDurationMs: timing.leaseDurationMs, renewDeadlineMs: timing.renewDeadlineMs, retryPeriodMs: timing.retryPeriodMs });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    setTimeout(() => process.exit(1), stopTimeoutMs).unref();
    running.stop().then(() => bus.close()).then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
