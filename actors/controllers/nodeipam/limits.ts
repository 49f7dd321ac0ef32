/** Bounds of node IPAM (STYLE rule 5), each with its reason. */
export const nodeIpamLimits = {
  /**
   * Node ranges one cluster CIDR may be cut into: 2^16, Kubernetes' own bound (cidrset's
   * clusterSubnetMaxDiff). The allocator keeps one bit per range, so this also bounds its memory
   * (8 KiB); a larger split is refused at start rather than allocated lazily.
   */
  subnetBitsMax: 16,
  /** Families per node (`spec.podCIDRs`): at most one IPv4 and one IPv6 range, as the API allows. */
  familiesMax: 2,
} as const;
