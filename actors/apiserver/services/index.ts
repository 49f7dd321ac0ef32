/**
 * Service addresses in the API (issue 12 §1): the ClusterIP and NodePort ranges, the allocator
 * the object store calls for every Service write, its in-memory view, and the repair pass.
 * The `kubernetes` Service reconciler (kubernetes-service*.ts) lives beside them.
 */
export {
  parseServiceRanges, parseClusterIpRange, parseNodePortRange, kubernetesServiceIp, ipv4ToNumber, numberToIpv4,
  clusterIpRangeFlag, nodePortRangeFlag, defaultClusterIpRange, defaultNodePortRange,
  type ClusterIpRange, type NodePortRange, type ServiceRanges,
} from './ranges.js';
export { ServiceRangeFlagError } from './errors.js';
export { serviceAllocationLimits, checkServiceAllocationLimits } from './limits.js';
export { defaultService, prepareServiceUpdate, clientIpAffinityTimeoutSecondsDefault } from './service-spec.js';
export { planAllocation, type AllocationPlan, type Claim } from './allocation-plan.js';
export { AllocationView } from './allocation-view.js';
export { ServiceAllocator } from './allocator.js';
export { startAllocationRepair, leakedRecords, unrecordedAddresses, type AllocationRepair } from './repair.js';
export { allocationRecordsPrefix, recordKey, type Address, type RecordOwner } from './records.js';
