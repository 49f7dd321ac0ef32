/** The ResourceQuota status controller and its pure usage count. */
export { resourceQuotaController, syncPeriodMs } from './resourcequota-controller.js';
export { isOtherCountName, lowersUsage, quotaUsage, quotaWithStatus, type NamespaceObjects } from './quota-usage.js';
export { resourceQuotaLimits } from './limits.js';
