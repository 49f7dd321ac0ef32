/**
 * Every bound of the NATS tunnel's two ends, with its reason (the stream's own bounds, window and
 * keepalive, are in bus/stream/limits.ts).
 */
import { assert } from '../../bus/assert.js';
import { streamLimits } from '../../bus/stream/index.js';

export const tunnelLimits = {
  /**
   * The far agent's connect to its own pod. Local, so it answers at once or is refused; the bound
   * only covers a pod that drops SYNs. Below the proxy's 3 s per-endpoint attempt, so the dialer
   * hears the typed refusal before it gives up.
   */
  connectTimeoutMs: 2_000,
  /** A dial with no `timeoutMs`: the far agent's connect plus NATS round trips on a loaded machine. */
  dialTimeoutMs: 5_000,
  /** A tunnelled UDP flow with no datagram either way for this long is closed (conntrack's UDP stream timeout is 120 s; flows here are per client port). */
  udpIdleMs: 60_000,
  /** A list of pod sandboxes reused for opens to pods it contains (pod-sandboxes.ts): one runtime call per second at most under a burst of connections. */
  sandboxListFreshMs: 1_000,
  /** A runtime that does not list its sandboxes within this refuses the open (a stalled CRI must not hold every open's slot). */
  sandboxListTimeoutMs: 1_500,
} as const;

assert(tunnelLimits.connectTimeoutMs < tunnelLimits.dialTimeoutMs, 'the far connect must end before the dialer gives up');
assert(tunnelLimits.dialTimeoutMs <= streamLimits.openTimeoutMs, 'a dial must fit the stream open bound');
