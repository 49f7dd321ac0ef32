/** The node's assignments: the relay stream's messages, the tracker and the client that feeds the pod manager. */
export { assignmentLimits, type AssignmentMessage, type AssignmentChange, type AssignmentHeartbeat, type AssignmentUpdate } from './protocol.js';
export { startAssignmentClient, listNodePods, relistDelayMs, assignmentClientMachine, type AssignmentClient, type AssignmentClientOptions } from './client.js';
export { AssignmentTracker, revisionOf, type TrackerOutput, type TrackerPhase, type TrackerOptions } from './assignment-tracker.js';
export { assignmentClientLimits, checkAssignmentClientLimits } from './limits.js';
export { AssignmentListTooLongError } from './errors.js';
