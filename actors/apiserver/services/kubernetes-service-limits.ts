/**
 * The bounds of the `kubernetes` Service reconciler (kubernetes-service.ts), with their reasons.
 * Kept apart from the folder's limits.ts, which belongs to the address allocators.
 */
export const kubernetesServiceLimits = {
  /** A member renews its Lease and reconciles this often: kube-apiserver's lease endpoint reconciler's 10 s. */
  renewIntervalMs: 10_000,
  /**
   * A member not seen renewing for this long leaves the endpoints: kube-apiserver's 15 s
   * (`--endpoint-reconciler-type=lease`), one and a half renew intervals, so one slow renewal
   * does not drop a live member.
   */
  leaseDurationSeconds: 15,
  /**
   * A failed pass (no quorum, the default namespace not created yet) is tried again this soon:
   * a fresh member gets its endpoint published within seconds of the store accepting writes, not
   * a whole renew interval later.
   */
  retryIntervalMs: 2_000,
  /**
   * One pass (a handful of reads and writes) that takes longer counts as failed, so the loop goes
   * on: a store write has its own short deadline, this is the net under it.
   */
  passTimeoutMs: 8_000,
  /**
   * A clean stop removes this member's Lease and endpoint within this bound, then gives up: the
   * member process must exit within the 4 s `kubus server` allows its stop (server.ts), and the
   * others drop the endpoint anyway once the Lease expires.
   */
  stopTimeoutMs: 1_500,
  /**
   * A Lease seen for the first time counts as live only if its writer's renewTime is this close to
   * our wall clock (plus its duration): a member that died long ago does not come back into the
   * endpoints when another member starts. Generous, since hosts' clocks may differ; after the
   * first sighting only our monotonic clock judges expiry.
   */
  firstSightingSkewMs: 15_000,
  /** Members listed at most (a Lease list page): far above the 3 or 5 members a cluster has. */
  membersMax: 64,
} as const;

export function checkKubernetesServiceLimits(limits: typeof kubernetesServiceLimits): void {
  if (!(limits.leaseDurationSeconds * 1000 > limits.renewIntervalMs)) throw new Error('kubernetesServiceLimits: the Lease must outlive one renew interval');
  if (!(limits.retryIntervalMs < limits.renewIntervalMs)) throw new Error('kubernetesServiceLimits: a retry must come sooner than a renewal');
  if (!(limits.passTimeoutMs < limits.leaseDurationSeconds * 1000)) throw new Error('kubernetesServiceLimits: a pass must end before the Lease would expire');
}
