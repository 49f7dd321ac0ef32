/** The assignment relay: one pod watch fanned out to `node.<N>.assign` (issue 11 §4). */
export { assignmentRelay, relayHeartbeatKey } from './assignment-relay.js';
export { RelayFanout, type Outgoing } from './relay-state.js';
export { relayLimits } from './limits.js';
