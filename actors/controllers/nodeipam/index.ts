/** Node IPAM: pod CIDRs for every Node (see node-ipam-controller.ts). */
export { nodeIpamController, createNodeIpamController, nodeIpamSettings, nodeIpamDefaults } from './node-ipam-controller.js';
export { NodeCidrAllocator, nodePodCidrs, type AllocationResult, type NodeCidrSettings } from './node-cidr-allocator.js';
export { CidrSet, parseCidr, formatCidr, type Cidr, type IpFamily } from './cidr-set.js';
export { InvalidCidrError, InvalidNodeCidrMaskError } from './errors.js';
export { nodeIpamLimits } from './limits.js';
