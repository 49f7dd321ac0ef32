/** The controller runtime's public surface: the contract (types.ts) and what implements it. */
export type * from './types.js';
export { refs, kindOf } from './resource-refs.js';
export {
  ApiStatusError, NotFoundError, ConflictError, AlreadyExistsError, GoneError, InvalidError, TooManyRequestsError, ForbiddenError,
  LeadershipLostError, apiStatusError, isNotFound, isConflict, isAlreadyExists, isGone, isInvalid, isTooManyRequests, isForbidden,
} from './api-errors.js';
export { NatsApiClient, type NatsApiClientOptions } from './api-client.js';
export { SharedInformer, InformerCapacityError } from './informer.js';
export { SharedInformerFactory, InformerSyncTimeoutError } from './informer-factory.js';
export { RateLimitedWorkQueue } from './work-queue.js';
export { ControllerRateLimiter, itemBackoffMs } from './rate-limiter.js';
export { ApiEventRecorder } from './event-recorder.js';
export {
  leaderElectionMachine, defaultLeaderElectionTiming, checkLeaderElectionTiming, type LeaderElectionTiming,
} from './leader-election.js';
export { decideLease, leaseSpecFor, microTime } from './lease-decision.js';
export { controllerMachine, processKey } from './controller-actor.js';
export { startElectedComponent, type ElectedComponent } from './elected-component.js';
export { controllerFlags, controllerOptions, enabledControllers, workersFor, parseDurationMs } from './controller-flags.js';
export { runtimeLimits } from './limits.js';
