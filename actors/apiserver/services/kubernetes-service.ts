/**
 * The `kubernetes` Service in `default`, pointing at the members' API endpoints: Kubernetes'
 * "master endpoint reconciler" of the lease type, one per member, as an XState machine:
 *
 *   reconciling ──(pass done)──▶ waiting (renew interval) ──▶ reconciling
 *        │ (failed: no quorum, timeout)                           ▲
 *        └──────────────────────▶ retrying (retry interval) ──────┘
 *   any ──(reconciler.stop)──▶ leaving (own Lease and endpoint removed, bounded) ──▶ stopped
 *
 * Every member keeps a Lease (`kube-system/kube-apiserver-<member id>`, renewed every 10 s,
 * valid 15 s) naming its advertised address and port, and every member writes the Service (ClusterIP
 * the first usable address of `--service-cluster-ip-range`, port 443 `https`, no selector), its
 * Endpoints and its EndpointSlices from the live members' Leases (kubernetes-service-pass.ts).
 * Pods get `KUBERNETES_SERVICE_HOST`/`_PORT` from it (nodeagent/env/service-env.ts).
 *
 * Without quorum nothing can be written: the passes fail, the last written endpoints stay, and
 * the first pass after quorum returns brings them up to date.
 */
import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';
import { assign, createActor, fromPromise, setup } from 'xstate';
import type { Clock, Logger } from '../../../bus/index.js';
import type { ObjectStorage } from '../http/objects-port.js';
import { KubernetesServiceConfigError } from './kubernetes-service-errors.js';
import { checkKubernetesServiceLimits, kubernetesServiceLimits } from './kubernetes-service-limits.js';
import type { MemberEndpoint, Sighting } from './kubernetes-service-liveness.js';
import { leavePass, reconcilePass, type PassInput, type PassResult } from './kubernetes-service-pass.js';
import { kubernetesServiceIp, parseClusterIpRange } from './ranges.js';

export interface KubernetesServiceTiming {
  readonly renewIntervalMs: number;
  readonly leaseDurationSeconds: number;
  readonly retryIntervalMs: number;
}

export interface KubernetesServiceReconcilerOptions {
  readonly objects: ObjectStorage;
  /** This member's id: its Lease is `kube-apiserver-<self>`. */
  readonly self: string;
  /** Where clients reach this member's API: `--advertise-address` (see defaultAdvertiseAddress) and the port it listens on. */
  readonly advertise: { readonly address: string; readonly port: number };
  /** `--service-cluster-ip-range`: the Service gets its first usable address. */
  readonly serviceClusterIpRange: string;
  readonly clock: Clock;
  readonly wallClock?: () => Date;
  readonly logger: Logger;
  /** Tests shorten the intervals; default kubernetes-service-limits.ts. */
  readonly timing?: Partial<KubernetesServiceTiming>;
}

export interface RunningKubernetesServiceReconciler {
  /** The live members as of the last successful pass (this member first known after its first one). */
  live(): readonly MemberEndpoint[];
  /** Removes this member's Lease and endpoint (bounded by stopTimeoutMs), then stops. */
  stop(): Promise<void>;
}

interface Context {
  readonly pass: PassInput;
  readonly clock: Clock;
  readonly timing: KubernetesServiceTiming;
  readonly logger: Logger;
  sightings: Map<string, Sighting>;
  live: MemberEndpoint[];
  failures: number;
}

type ReconcilerEvent = { type: 'reconciler.stop' };

/** Fails a pass that takes longer than the bound: the loop must go on (a request to a stopped member may never be answered). */
function bounded<T>(clock: Clock, work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer = -1;
  const late = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => reject(new Error(`the pass took longer than ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, late]).finally(() => clock.clearTimeout(timer));
}

export const kubernetesServiceMachine = setup({
  types: { context: {} as Context, input: {} as Omit<Context, 'sightings' | 'live' | 'failures'>, events: {} as ReconcilerEvent },
  actors: {
    pass: fromPromise<PassResult, { pass: PassInput; sightings: Map<string, Sighting>; clock: Clock }>(({ input }) =>
      bounded(input.clock, reconcilePass(input.pass, input.sightings), kubernetesServiceLimits.passTimeoutMs)),
    leave: fromPromise<void, { pass: PassInput; sightings: Map<string, Sighting>; clock: Clock }>(({ input }) =>
      bounded(input.clock, leavePass(input.pass, input.sightings), kubernetesServiceLimits.stopTimeoutMs)),
  },
  delays: {
    renewInterval: ({ context }) => context.timing.renewIntervalMs,
    retryInterval: ({ context }) => context.timing.retryIntervalMs,
  },
  actions: {
    notePassed: assign(({ context, event }) => {
      const result = (event as unknown as { output: PassResult }).output;
      const before = context.live.map(key).join(',');
      const after = result.live.map(key).join(',');
      if (before !== after) context.logger.info('kubernetes service endpoints', { live: after, writes: result.writes });
      return { sightings: result.sightings, live: result.live, failures: 0 };
    }),
    noteLeft: ({ context }) => context.logger.info('left the kubernetes service endpoints', { member: context.pass.self.member }),
    /** The others drop this member once its Lease expires (or at once, if the Lease delete got through). */
    noteLeaveFailed: ({ context, event }) => {
      const error = (event as { error?: unknown }).error;
      context.logger.warn('could not remove this member from the kubernetes service endpoints', { error: error instanceof Error ? error.message : String(error) });
    },
    noteFailed: assign(({ context, event }) => {
      const failures = context.failures + 1;
      const error = (event as { error?: unknown }).error;
      // Every 15th failure in a row is a warning (about 30 s of no quorum); the others are debug.
      const log = failures % 15 === 0 ? context.logger.warn : context.logger.debug;
      log.call(context.logger, 'kubernetes service pass failed', { failures, error: error instanceof Error ? error.message : String(error) });
      return { failures };
    }),
  },
}).createMachine({
  id: 'kubernetesService',
  context: ({ input }) => ({ ...input, sightings: new Map(), live: [], failures: 0 }),
  initial: 'running',
  states: {
    running: {
      initial: 'reconciling',
      on: { 'reconciler.stop': 'leaving' },
      states: {
        reconciling: {
          invoke: {
            src: 'pass',
            input: ({ context }) => ({ pass: context.pass, sightings: context.sightings, clock: context.clock }),
            onDone: { target: 'waiting', actions: 'notePassed' },
            onError: { target: 'retrying', actions: 'noteFailed' },
          },
        },
        waiting: { after: { renewInterval: 'reconciling' } },
        retrying: { after: { retryInterval: 'reconciling' } },
      },
    },
    leaving: {
      invoke: {
        src: 'leave',
        input: ({ context }) => ({ pass: context.pass, sightings: context.sightings, clock: context.clock }),
        onDone: { target: 'stopped', actions: 'noteLeft' },
        onError: { target: 'stopped', actions: 'noteLeaveFailed' },
      },
    },
    stopped: { type: 'final' },
  },
});

function key(endpoint: MemberEndpoint): string {
  return `${endpoint.member}=${endpoint.address}:${endpoint.port}`;
}

export function startKubernetesServiceReconciler(options: KubernetesServiceReconcilerOptions): RunningKubernetesServiceReconciler {
  checkKubernetesServiceLimits(kubernetesServiceLimits);
  const timing: KubernetesServiceTiming = {
    renewIntervalMs: options.timing?.renewIntervalMs ?? kubernetesServiceLimits.renewIntervalMs,
    leaseDurationSeconds: options.timing?.leaseDurationSeconds ?? kubernetesServiceLimits.leaseDurationSeconds,
    retryIntervalMs: options.timing?.retryIntervalMs ?? kubernetesServiceLimits.retryIntervalMs,
  };
  const self = { member: options.self, address: checkedAdvertiseAddress(options.advertise.address), port: options.advertise.port };
  const pass: PassInput = {
    objects: options.objects, self, clusterIp: kubernetesServiceClusterIp(options.serviceClusterIpRange),
    leaseDurationSeconds: timing.leaseDurationSeconds, membersMax: kubernetesServiceLimits.membersMax,
    firstSightingSkewMs: kubernetesServiceLimits.firstSightingSkewMs,
    nowMs: () => options.clock.now(), wallClock: options.wallClock ?? (() => new Date()),
  };
  const logger = options.logger.child({ component: 'kubernetes-service' });
  const actor = createActor(kubernetesServiceMachine, { clock: options.clock, systemId: 'kubernetesService', input: { pass, clock: options.clock, timing, logger } });
  actor.start();
  return {
    live: () => actor.getSnapshot().context.live,
    async stop() {
      actor.send({ type: 'reconciler.stop' });
      // The leave pass is bounded itself; this bound (on the injected clock) only guards against a machine that never ends.
      await new Promise<void>((resolve) => {
        const timer = options.clock.setTimeout(resolve, kubernetesServiceLimits.stopTimeoutMs * 2);
        const finished = (): void => {
          options.clock.clearTimeout(timer);
          resolve();
        };
        if (actor.getSnapshot().status === 'done') finished();
        else actor.subscribe({ complete: finished, error: finished });
      });
      actor.stop();
    },
  };
}

/**
 * The first usable address of `--service-cluster-ip-range`: the `kubernetes` Service's ClusterIP,
 * which the allocator never hands out. The range is read by the allocator's own parser (ranges.ts),
 * so both agree on it; a bad flag is its ServiceRangeFlagError.
 */
export function kubernetesServiceClusterIp(range: string): string {
  return kubernetesServiceIp(parseClusterIpRange(range));
}

function checkedAdvertiseAddress(address: string): string {
  if (!ipaddr.isValid(address)) throw new KubernetesServiceConfigError('--advertise-address', address, 'not an IP address (endpoints hold IPs)');
  const parsed = ipaddr.parse(address);
  if (parsed.range() === 'unspecified') throw new KubernetesServiceConfigError('--advertise-address', address, 'the unspecified address cannot be reached; name one of this host\'s addresses');
  return parsed.toString();
}

/**
 * `--advertise-address` when it is not given: the API's host when that is a concrete IP, else
 * (0.0.0.0, ::, a host name) this host's first non-internal IPv4, else loopback. kube-apiserver
 * likewise takes the bind address, or the host's default-route address for 0.0.0.0.
 */
export function defaultAdvertiseAddress(host: string, interfaces = networkInterfaces()): string {
  if (ipaddr.isValid(host) && ipaddr.parse(host).range() !== 'unspecified') return ipaddr.parse(host).toString();
  if (host === 'localhost') return '127.0.0.1';
  for (const list of Object.values(interfaces)) {
    for (const entry of list ?? []) if (entry.family === 'IPv4' && !entry.internal) return entry.address;
  }
  return '127.0.0.1';
}

/**
 * The names a pod uses to reach the API through the `kubernetes` Service, which the members'
 * serving certificate must carry (kube-apiserver adds the same SANs): its ClusterIP, and
 * `kubernetes`, `kubernetes.default`, `kubernetes.default.svc`, `kubernetes.default.svc.<domain>`.
 */
export function kubernetesServiceCertNames(serviceClusterIpRange: string, clusterDomain = 'cluster.local'): string[] {
  return [kubernetesServiceClusterIp(serviceClusterIpRange), 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${clusterDomain}`];
}
