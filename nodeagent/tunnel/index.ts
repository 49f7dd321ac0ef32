/**
 * The NATS tunnel between agents (issue 12 §2, types.ts is the contract): the dialer opens streams
 * to another node's agent, the server accepts them and connects to its own pods, and the pod
 * networks say which endpoints need it.
 */
export * from './types.js';
export { startTunnelServer, type TunnelServer, type TunnelServerDeps } from './server.js';
export { createTunnelDialer, type ClosableTunnelDialer, type TunnelDialerOptions } from './dialer.js';
export { startPodNetworks } from './pod-networks.js';
export { TunnelRefusedError, TunnelUnreachableError, TunnelTimeoutError, type TunnelRefusalReason } from './errors.js';
export { tunnelLimits } from './limits.js';
export { tunnelSubject, tunnelDialerSubject } from './subjects.js';
export { parseTarget, decideTarget, normalizeIp, type TargetDecision } from './target.js';
export { PodSandboxView } from './pod-sandboxes.js';
