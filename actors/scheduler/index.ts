/**
 * The scheduler as the runtime runs it: its loops (runtime/types.ts ControllerSpec), active while
 * this process holds the `kube-system/kube-scheduler` Lease.
 *
 * Decision: the scheduler keeps its own priority queue (Kubernetes' scheduling queue, not a
 * controller work queue), so its spec drives the loop from `watch` (start on activation, stop on
 * the returned cleanup) and `reconcile` has nothing to do.
 */
import type { ControllerContext, ControllerSpec } from '../controllers/runtime/types.js';
import { schedulerLimits, type SchedulerLimits } from './limits.js';
import { defaultScheduleConfig } from './schedule.js';
import { SchedulerLoop } from './scheduler-loop.js';

function numberOption(ctx: ControllerContext, name: string, fallback: number): number {
  const value = ctx.options[name];
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

export const schedulerSpec: ControllerSpec = {
  name: 'scheduler',
  workers: 1,
  watch(ctx) {
    // --percentage-of-nodes-to-score, --pod-initial-backoff and --pod-max-backoff (controller-flags.ts).
    const limits: SchedulerLimits = {
      ...schedulerLimits,
      podInitialBackoffMs: numberOption(ctx, 'podInitialBackoffMs', schedulerLimits.podInitialBackoffMs),
      podMaxBackoffMs: numberOption(ctx, 'podMaxBackoffMs', schedulerLimits.podMaxBackoffMs),
    };
    const config = { ...defaultScheduleConfig, percentageOfNodesToScore: Math.min(100, numberOption(ctx, 'percentageOfNodesToScore', 0)) };
    const loop = new SchedulerLoop(ctx, config, limits);
    loop.start();
    return () => loop.stop();
  },
  async reconcile() {
    // Nothing is queued for the runtime's workers: the scheduling queue is the scheduler's own.
  },
};

export const schedulerSpecs: readonly ControllerSpec[] = [schedulerSpec];

export { schedule, numFeasibleNodesToFind, defaultScheduleConfig, type ScheduleConfig, type ScheduleResult, type Diagnosis } from './schedule.js';
export { fitErrorMessage } from './failure-message.js';
export { preempt, type PreemptionResult } from './preemption.js';
export { ClusterCache, buildSnapshot, type Snapshot } from './snapshot.js';
export { podInfo, type PodInfo } from './pod-info.js';
export { NodeInfo } from './node-info.js';
export { SchedulingQueue, SchedulingQueueFullError, type ClusterEvent, type QueuedPod } from './scheduling-queue.js';
export { SchedulerLoop, defaultSchedulerName } from './scheduler-loop.js';
export { schedulerLimits } from './limits.js';
export { defaultFilters, defaultScorers } from './plugins/index.js';
