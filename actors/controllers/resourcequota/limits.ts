/** Bounds and defaults of the ResourceQuota controller, each with its reason. */
export const resourceQuotaLimits = {
  /** Kubernetes' `--resource-quota-sync-period` default: a full recount of every quota this often, whatever the events said. */
  syncPeriodDefaultMs: 5 * 60_000,
  /** Shortest sync period accepted: a recount lists whole namespaces, so a typo such as `1ms` must not turn it into a busy loop. */
  syncPeriodMinMs: 1_000,
  /** Page size of the live lists that confirm a lowered usage: bounds one answer's size. */
  listPageSize: 500,
  /** Pages read for one resource before giving up (500 x 200 = 100,000 objects in a namespace). */
  listPagesMax: 200,
} as const;
