/**
 * Restart decisions, pure: whether a container that exited runs again (`restartPolicy`), and how
 * long it waits first, as Kubernetes' kubelet does: the first restart is immediate, then
 * CrashLoopBackOff waits 10 s, 20 s, 40 s … capped at 5 min; a container that ran 10 min before
 * exiting starts the sequence over (its next restart is immediate again).
 */
import { kubeletLimits } from './limits.js';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export function restartPolicyOf(spec: { readonly restartPolicy?: string | undefined } | undefined): RestartPolicy {
  const policy = spec?.restartPolicy;
  return policy === 'OnFailure' || policy === 'Never' ? policy : 'Always';
}

/** Does a container that exited with `exitCode` start again under `policy`? */
export function shouldRestart(policy: RestartPolicy, exitCode: number): boolean {
  if (policy === 'Always') return true;
  if (policy === 'OnFailure') return exitCode !== 0;
  return false;
}

/** Init containers must succeed: they are retried after a failure unless the policy is Never (Kubernetes' rule). */
export function shouldRestartInit(policy: RestartPolicy, exitCode: number): boolean {
  return exitCode !== 0 && policy !== 'Never';
}

/**
 * The wait before the next start. `previousDelayMs` is the delay used before the last restart
 * (null: the container never restarted yet); `ranForMs` is how long the instance that just
 * exited ran. Running `restartBackoffResetMs` or longer resets the sequence.
 */
export function nextRestartDelayMs(previousDelayMs: number | null, ranForMs: number): number {
  const { restartBackoffInitialMs, restartBackoffMaxMs, restartBackoffResetMs } = kubeletLimits;
  if (previousDelayMs === null || ranForMs >= restartBackoffResetMs) return 0;
  if (previousDelayMs === 0) return restartBackoffInitialMs;
  return Math.min(previousDelayMs * 2, restartBackoffMaxMs);
}
