/**
 * The host of the leader-elected control-plane components: the controller manager (every spec of
 * registry.ts, under Lease `kube-system/kube-controller-manager`, as `system:kube-controller-manager`)
 * and the scheduler (actors/scheduler, under `kube-system/kube-scheduler`, as `system:kube-scheduler`).
 * `kubus server` runs both in every member; `kubus controller-manager` / `kubus scheduler` run one
 * alone. The cloud controller manager (actors/cloud, under `kube-system/cloud-controller-manager`,
 * as `system:cloud-controller-manager`) runs when `--cloud-provider` names a provider: its
 * provider is created once per process (`startComponent`), before the component competes for its
 * Lease, handed to its loops, and stopped after them.
 *
 * Decision: each component has its own NATS connection as its own NATS user (component
 * permissions: it may only ask the API and receive on its own inboxes; a member's user may not
 * receive API watch frames), and its own API token from tokens.csv, so RBAC sees the component,
 * never the member.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { NatsBus, componentUserName, loadNatsCredentials, type Bus, type Clock, type Logger } from '../../bus/index.js';
import { parseTokenFile } from '../apiserver/tokens.js';
import { schedulerSpecs } from '../scheduler/index.js';
import { cloudControllerSpecs, startCloudProvider, type CloudProvider } from '../cloud/index.js';
import { controllerSpecs } from './registry.js';
import { NatsApiClient } from './runtime/api-client.js';
import { enabledControllers } from './runtime/controller-flags.js';
import { startElectedComponent, type ElectedComponent } from './runtime/elected-component.js';
import type { LeaderElectionTiming } from './runtime/leader-election.js';
import type { ControllerSpec } from './runtime/types.js';

export type ComponentName = 'kube-controller-manager' | 'kube-scheduler' | 'cloud-controller-manager';

/** What each component is: its RBAC user (tokens.csv), its loops, its Event source. */
export const components: Readonly<Record<ComponentName, { readonly user: string; readonly eventComponent: string; readonly specs: (cloud: CloudProvider | undefined, cluster: string) => readonly ControllerSpec[] }>> = {
  'kube-controller-manager': { user: 'system:kube-controller-manager', eventComponent: 'kube-controller-manager', specs: () => controllerSpecs },
  'kube-scheduler': { user: 'system:kube-scheduler', eventComponent: 'default-scheduler', specs: () => schedulerSpecs },
  // Issue 12 §4: runs only with --cloud-provider; its loops are bound to the process's provider.
  'cloud-controller-manager': {
    user: 'system:cloud-controller-manager', eventComponent: 'cloud-controller-manager',
    specs: (cloud, cluster) => {
      if (cloud === undefined) throw new Error('the cloud controller manager needs its provider: start it with startComponent (it creates one from --cloud-provider)');
      return cloudControllerSpecs(cloud, cluster);
    },
  },
};

export interface ComponentRunConfig {
  readonly component: ComponentName;
  readonly cluster: string;
  /** Its own connection (the host connects it as the component's NATS user). */
  readonly bus: Bus;
  /** Its API bearer token. */
  readonly token: string;
  /** Prefix of the leader-election identity (member id or host name); a random suffix makes it unique per run. */
  readonly identity: string;
  readonly timing: LeaderElectionTiming;
  /** `--controllers` (controller manager only). */
  readonly controllers?: string;
  readonly options: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly clock: Clock;
  readonly wallClock: () => Date;
  readonly logger: Logger;
  /** The cloud controller manager's provider (the caller stops it); startComponent creates one. */
  readonly cloud?: CloudProvider;
}

/** Runs one component on a connection the caller owns (the cloud controller manager: with `cloud` given). */
export function runComponent(config: ComponentRunConfig): ElectedComponent {
  const info = components[config.component];
  const all = info.specs(config.cloud, config.cluster);
  const enabled = config.component === 'kube-controller-manager' ? enabledControllers(config.controllers, all.map((s) => s.name)) : new Set(all.map((s) => s.name));
  const api = new NatsApiClient({ bus: config.bus, cluster: config.cluster, token: config.token, clock: config.clock, inboxOwner: componentUserName(config.component) });
  return startElectedComponent({
    name: config.component,
    eventComponent: info.eventComponent,
    specs: all.filter((spec) => enabled.has(spec.name)),
    api,
    identity: `${config.identity}_${randomBytes(4).toString('hex')}`,
    timing: config.timing,
    clock: config.clock,
    wallClock: config.wallClock,
    logger: config.logger,
    options: config.options,
    bus: config.bus,
    cluster: config.cluster,
  });
}

/**
 * Starts one component; the cloud controller manager first creates its provider from
 * `options.cloudProvider` / `options.cloudConfig` (an unknown name fails here, listing the
 * registered ones) and stops it after its loops.
 */
export async function startComponent(config: ComponentRunConfig): Promise<ElectedComponent> {
  if (config.component !== 'cloud-controller-manager' || config.cloud !== undefined) return runComponent(config);
  const cloud = await startCloudProvider({ options: config.options, clusterName: config.cluster, clock: config.clock, logger: config.logger });
  let running: ElectedComponent;
  try {
    running = runComponent({ ...config, cloud });
  } catch (error) {
    await cloud.stop().catch(() => undefined);
    throw error;
  }
  return {
    isLeading: () => running.isLeading(),
    activeSince: () => running.activeSince(),
    async stop() {
      await running.stop();
      await cloud.stop().catch((error: unknown) => config.logger.warn('cloud provider did not stop cleanly', { cloudProvider: cloud.name, error }));
    },
  };
}

/** The component's static token from the cluster's tokens.csv (credentials.ts writes one per component). */
export function componentToken(credentialsDir: string, component: ComponentName): string {
  const file = join(credentialsDir, 'tokens.csv');
  const user = components[component].user;
  for (const [token, info] of parseTokenFile(readFileSync(file, 'utf8'), file)) if (info.name === user) return token;
  throw new Error(`${file} has no token for ${user}`);
}

/** A connection as the component's NATS user, minted from the cluster's keys. */
export async function connectComponent(options: { readonly credentialsDir: string; readonly cluster: string; readonly natsServers: readonly string[]; readonly component: ComponentName; readonly name: string; readonly logger: Logger }): Promise<NatsBus> {
  // Wall time (JWT issue date), read in the composition layer; the component user never expires.
  const user = await loadNatsCredentials(options.credentialsDir).mintComponent(options.cluster, options.component, { ttlMs: null, nowMs: Date.now() });
  return NatsBus.connect({ servers: [...options.natsServers], name: options.name, user, connectTimeoutMs: 5_000, reconnect: true, logger: options.logger });
}

export interface ControlPlaneConfig {
  readonly cluster: string;
  readonly natsServers: readonly string[];
  readonly credentialsDir: string;
  readonly identity: string;
  /** `cloudControllerManager`: with `--cloud-provider` (issue 12 §4). */
  readonly run: { readonly controllerManager: boolean; readonly scheduler: boolean; readonly cloudControllerManager?: boolean };
  readonly controllers?: string;
  readonly timing: LeaderElectionTiming;
  readonly options: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface RunningControlPlane {
  readonly components: ReadonlyMap<ComponentName, ElectedComponent>;
  stop(): Promise<void>;
}

/** Starts the enabled components, each on its own connection; stop() releases their Leases and closes them. */
export async function startControlPlane(config: ControlPlaneConfig): Promise<RunningControlPlane> {
  const running = new Map<ComponentName, ElectedComponent>();
  const buses: NatsBus[] = [];
  const rootCaCertPem = readFileSync(join(config.credentialsDir, 'pki', 'ca.crt'), 'utf8');
  const wanted: ComponentName[] = [
    ...(config.run.controllerManager ? ['kube-controller-manager' as const] : []),
    ...(config.run.scheduler ? ['kube-scheduler' as const] : []),
    ...(config.run.cloudControllerManager === true ? ['cloud-controller-manager' as const] : []),
  ];
  try {
    for (const component of wanted) {
      const logger = config.logger.child({ component });
      const bus = await connectComponent({ ...config, component, name: `kubus-${config.cluster}-${config.identity}-${component}`, logger });
      buses.push(bus);
      running.set(component, await startComponent({
        component, cluster: config.cluster, bus, token: componentToken(config.credentialsDir, component), identity: config.identity,
        timing: config.timing, ...(config.controllers !== undefined ? { controllers: config.controllers } : {}),
        options: { ...config.options, rootCaCertPem, credentialsDir: config.credentialsDir, natsServers: config.natsServers.join(',') }, clock: config.clock, wallClock: () => new Date(), logger: config.logger,
      }));
    }
  } catch (error) {
    await Promise.all([...running.values()].map((c) => c.stop()));
    await Promise.all(buses.map((b) => b.close()));
    throw error;
  }
  return {
    components: running,
    async stop() {
      await Promise.all([...running.values()].map((c) => c.stop()));
      await Promise.all(buses.map((b) => b.close().catch(() => undefined)));
    },
  };
}
