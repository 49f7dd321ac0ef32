/**
 * Every bound of the cloud controller manager (STYLE rule 5), with its reason. Checked against
 * each other when the component starts (`checkCloudLimits`).
 */
import { assert } from '../../bus/assert.js';
import { runtimeLimits } from '../controllers/runtime/limits.js';

export const cloudLimits = {
  /**
   * One instance question (exists, shutdown, metadata). A cloud's metadata API answers in
   * milliseconds; 10 s bounds a hung call so one Node's question never stalls a pass for long.
   */
  instanceCallTimeoutMs: 10_000,
  /**
   * One load-balancer call (get, ensure, update, delete). Real clouds take tens of seconds to
   * create a balancer; 60 s leaves room for that while a hung call still frees its worker.
   */
  loadBalancerCallTimeoutMs: 60_000,
  /**
   * Backoff of a Service whose provider call failed: from 500 ms doubling to 30 s. Kubernetes
   * uses 5 s to 300 s for cloud APIs that rate-limit; kubus's shipped providers answer in
   * milliseconds, and a LoadBalancer Service should converge within a minute when half the calls
   * fail (issue 12 §5), so the base is smaller and the cap shorter.
   */
  serviceRetryBaseMs: 500,
  serviceRetryMaxMs: 30_000,
  /** A Node whose instance question failed is asked again after this backoff (same reasoning). */
  nodeRetryBaseMs: 500,
  nodeRetryMaxMs: 30_000,
  /**
   * How often an initialised Node's addresses are compared with the cloud's (Kubernetes'
   * cloud-node controller `--node-status-update-frequency`, 5 min): one metadata call per Node per
   * period, which a 5,000-node cluster can afford (17 calls/s).
   */
  nodeStatusUpdatePeriodMs: 300_000,
  /** The cloud-node-lifecycle pass when `--node-monitor-period` is not given (Kubernetes' 5 s). */
  lifecycleMonitorPeriodMsDefault: 5_000,
  /** Soonest next lifecycle pass: a tiny period must not turn the pass into a busy loop. */
  lifecycleMonitorPeriodMsMin: 1_000,
  /**
   * Provider calls one lifecycle pass makes (two per NotReady Node at most). A mass outage of
   * thousands of Nodes is worked through over several passes instead of one pass that holds its
   * worker for minutes; Nodes are visited in rotation so every one gets its turn.
   */
  lifecycleCallsPerPassMax: 200,
  /**
   * Per-key memories of one term (failure counts, the node set a balancer was last given): one
   * per Service or Node the informers hold, dropped with the object, so the informer's bound is theirs.
   */
  trackedKeysMax: runtimeLimits.informerObjectsMax,
} as const;

export function checkCloudLimits(): void {
  const l = cloudLimits;
  assert(l.serviceRetryBaseMs <= l.serviceRetryMaxMs, 'service retry backoff range is inverted');
  assert(l.nodeRetryBaseMs <= l.nodeRetryMaxMs, 'node retry backoff range is inverted');
  assert(l.lifecycleMonitorPeriodMsMin <= l.lifecycleMonitorPeriodMsDefault, 'lifecycle period default below its minimum');
  assert(l.instanceCallTimeoutMs < l.nodeStatusUpdatePeriodMs, 'an instance call may not outlast the address refresh period');
  assert(l.lifecycleCallsPerPassMax >= 2, 'a lifecycle pass must be able to ask about at least one Node');
}

/** Exponential backoff after `failures` consecutive failures (1 = the first). */
export function backoffMs(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
}
