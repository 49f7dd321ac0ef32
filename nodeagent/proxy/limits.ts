/**
 * Every bound of the service proxy, with its reason. `ProxyTuning` lets tests and benchmarks
 * shorten the timers; the agent runs with `proxyLimits`.
 */
import { strict as assert } from 'node:assert';

export const proxyLimits = {
  /** Listening sockets (ClusterIP and NodePort, TCP and UDP): each is a file descriptor; past this, Services are logged as not served rather than exhausting the agent's descriptors. */
  listenersMax: 4096,
  /** Open TCP connections (and UDP sessions) per Service: one busy Service must not starve the others of descriptors; past it new connections are reset. */
  connectionsPerServiceMax: 4096,
  /** Endpoints tried for one connection before it is reset: a few dead endpoints must not hold a client for long. */
  connectAttemptsMax: 3,
  /** One attempt to connect to an endpoint (direct or through the tunnel); then the next endpoint is tried. */
  connectTimeoutMs: 3_000,
  /** Connections to an endpoint that left its Service keep running this long, then are closed (kube-proxy leaves them to conntrack; a bound keeps a vanished pod's connections from living forever). */
  drainMs: 60_000,
  /** A stand-by proxy (another proxy on this host holds the address) tries to bind again this often: the take-over delay when the holder stops. */
  standbyRetryMs: 1_000,
  /** A listener that failed for another reason (address missing, permission) retries this often; it is logged once per address. */
  unavailableRetryMs: 10_000,
  /** UDP sessions (client address:port → endpoint) per listener; past it new clients' datagrams are dropped. */
  udpSessionsPerListenerMax: 1_024,
  /** A UDP session with no datagram either way for this long is closed (conntrack's UDP timeout, 30 s). */
  udpSessionIdleMs: 30_000,
  /** Datagrams queued while a session's endpoint is being opened; more are dropped (UDP may drop). */
  udpPendingDatagramsMax: 64,
  /** ClientIP affinity entries per service port; the least recently used goes first past it. */
  affinityEntriesMax: 65_536,
  /** `sessionAffinityConfig.clientIP.timeoutSeconds` when a Service does not say (Kubernetes' default, 3 h). */
  affinityTimeoutDefaultSeconds: 10_800,
  /** The proxy serves nothing until the catalog synced; it says so this often meanwhile. */
  syncWaitLogMs: 30_000,
  /** Waiting for in-flight listener binds and closes at stop. */
  stopMs: 5_000,
} as const;

export type ProxyTuning = { readonly [K in keyof typeof proxyLimits]: number };

export function checkProxyTuning(tuning: ProxyTuning): void {
  assert(tuning.connectAttemptsMax >= 1, 'a connection must try at least one endpoint');
  assert(tuning.standbyRetryMs > 0 && tuning.unavailableRetryMs > 0, 'listener retries need a positive interval');
  assert(tuning.udpPendingDatagramsMax >= 1, 'a new UDP session must carry its first datagram');
  assert(tuning.connectionsPerServiceMax >= 1 && tuning.listenersMax >= 1, 'the proxy must be able to serve something');
}

checkProxyTuning(proxyLimits);
