/**
 * Bounds of the `local` provider's load balancers (each with its reason), checked against each
 * other when a provider is created (`checkLocalLimits`).
 */
import { assert } from '../../../../bus/index.js';

export const localLimits = {
  /** A node that does not accept the connection in this time is skipped for the next one: a local NodePort answers in microseconds, so 2 s only passes for a dead or wedged agent. */
  connectTimeoutMs: 2_000,
  /** Open TCP connections per balancer port; more are refused by the kernel backlog rather than growing file descriptors without end (the process's default limit is 1,024 to 65,536). */
  connectionsPerPortMax: 4_096,
  /** UDP clients tracked per balancer port (one upstream socket each); a new client beyond it is dropped, like a full conntrack table. */
  udpSessionsPerPortMax: 1_024,
  /** A UDP client silent this long loses its upstream socket (Kubernetes' kube-proxy and conntrack use 30 s to 120 s for UDP; DNS-like traffic needs far less). */
  udpSessionIdleMs: 30_000,
  /** Service ports one balancer may serve (Kubernetes has no limit; each costs a listener, so a bound keeps a mistaken Service from opening thousands). */
  portsPerServiceMax: 100,
} as const;

export function checkLocalLimits(): void {
  const l = localLimits;
  assert(l.connectTimeoutMs > 0 && l.connectionsPerPortMax > 0 && l.udpSessionsPerPortMax > 0 && l.portsPerServiceMax > 0, 'local balancer limits must be positive');
  // A UDP session must outlive a connect attempt's worth of silence, or a slow first reply loses its way back.
  assert(l.udpSessionIdleMs > l.connectTimeoutMs, 'udpSessionIdleMs must exceed connectTimeoutMs');
}
