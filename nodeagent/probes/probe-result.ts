/**
 * The result of a probe over time, by the kubelet's worker rules (pkg/kubelet/prober/worker.go):
 * the published result changes only after `successThreshold` consecutive successes or
 * `failureThreshold` consecutive failures; a liveness or startup failure puts the probe on hold
 * (the container is restarted and gets a new prober); a startup success ends startup probing.
 */
export type ProbeKind = 'startup' | 'liveness' | 'readiness';
export type ProbeOutcome = 'success' | 'failure';

export interface ProbeThresholds {
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

export interface ProbeResultState {
  /** The published result; null while unknown (startup before its first verdict). */
  readonly result: ProbeOutcome | null;
  readonly lastOutcome: ProbeOutcome | null;
  /** Consecutive attempts with `lastOutcome`. */
  readonly run: number;
  /** No more attempts for this container instance. */
  readonly done: boolean;
}

/** Before any attempt: not ready, alive, start unknown (Kubernetes' initial values). */
export function initialProbeResult(kind: ProbeKind): ProbeResultState {
  const result: ProbeOutcome | null = kind === 'readiness' ? 'failure' : kind === 'liveness' ? 'success' : null;
  return { result, lastOutcome: null, run: 0, done: false };
}

export function observeProbe(
  state: ProbeResultState,
  outcome: ProbeOutcome,
  options: ProbeThresholds & { readonly kind: ProbeKind },
): { readonly state: ProbeResultState; readonly changed: boolean } {
  if (state.done) return { state, changed: false };
  const run = state.lastOutcome === outcome ? state.run + 1 : 1;
  const threshold = outcome === 'success' ? options.successThreshold : options.failureThreshold;
  if (run < threshold) return { state: { ...state, lastOutcome: outcome, run }, changed: false };
  const onHold = outcome === 'failure' && options.kind !== 'readiness';
  const startupDone = outcome === 'success' && options.kind === 'startup';
  const next: ProbeResultState = { result: outcome, lastOutcome: outcome, run: onHold ? 0 : run, done: onHold || startupDone };
  return { state: next, changed: state.result !== outcome };
}
