/** The Endpoints controller and what the EndpointSlice controller shares with it. */
export { endpointsController, watchServicePods } from './endpoints-controller.js';
export { desiredSubsets, endpointsAction, overCapacityAnnotation, type EndpointsAction } from './desired-endpoints.js';
export { computeTriggerTime, lastChangeTriggerTimeAnnotation, podTriggerTime, TriggerTimeTracker, type TriggerState } from './trigger-time.js';
export { hasSelector, serviceSelects, servicesSelecting } from './selecting-services.js';
export { endpointsLimits } from './limits.js';
