/**
 * The scheduler as the runtime runs it: its loops (runtime/types.ts ControllerSpec), active while
 * this process holds the `kube-system/kube-scheduler` Lease.
 */
import type { ControllerSpec } from '../controllers/runtime/types.js';

export const schedulerSpecs: readonly ControllerSpec[] = [];
