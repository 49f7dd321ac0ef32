/** The EndpointSlice controller and its pure planning functions. */
export { endpointSliceController, maxEndpointsPerSlice } from './endpointslice-controller.js';
export { desiredSliceEndpoints, endpointKey, portsKey, type PortGroup } from './desired-slice-endpoints.js';
export { managedByLabel, managedByValue, planSlices, serviceNameLabel, sliceLabels, type SlicePlan, type SlicePlanOptions } from './slice-plan.js';
export { SliceExpectations } from './slice-expectations.js';
export { endpointSliceLimits } from './limits.js';
