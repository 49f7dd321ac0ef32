/**
 * Bounds, defaults and timings of the horizontal pod autoscaler, each with its reason. The
 * defaults are Kubernetes' (kube-controller-manager's `--horizontal-pod-autoscaler-*` flags);
 * the controller reads the flags from ctx.options and falls back to these.
 */
export const podAutoscalerLimits = {
  /** `--horizontal-pod-autoscaler-sync-period`: how often every HPA is evaluated (metrics-server's resolution is 15 s too). */
  syncPeriodMs: 15_000,
  /** `--horizontal-pod-autoscaler-tolerance`: a usage ratio within 10 % of 1 changes nothing, so noise does not flap the scale. */
  tolerance: 0.1,
  /**
   * `--horizontal-pod-autoscaler-cpu-initialization-period`: a pod started less than this ago has
   * its CPU sample ignored unless it has been ready a whole metrics window (start-up CPU spikes).
   */
  cpuInitializationPeriodMs: 5 * 60_000,
  /** `--horizontal-pod-autoscaler-initial-readiness-delay`: a pod not ready this soon after start is taken as never ready. */
  initialReadinessDelayMs: 30_000,
  /** `--horizontal-pod-autoscaler-downscale-stabilization`: the default scale-down stabilization window (300 s). */
  downscaleStabilizationMs: 5 * 60_000,
  /**
   * Recommendations remembered per HPA. A sample older than both windows is overwritten in place,
   * so the list holds one window's worth of syncs (3,600 s / 1 s sync at the API's maximum
   * window); the bound only guards a misconfigured sync period.
   */
  recommendationsPerHpaMax: 4_096,
  /** Scale events remembered per HPA and direction: outdated ones are reused, as for recommendations. */
  scaleEventsPerHpaMax: 1_024,
  /** PodMetrics read per sync: a page as large as one target's pods can be (a Deployment of thousands). */
  podMetricsPageMax: 10_000,
  /** Workers: each sync is one scale GET, one metrics list and at most two writes; HPAs are few. */
  workers: 2,
  /** Retries of one HPA's sync before the runtime's give-up Event; the next sync period tries again anyway. */
  maxRetries: 5,
} as const;

/** Kubernetes' default scale-up policies: at most 4 pods or 100 % more (the larger) per 15 s. */
export const defaultScaleUpPolicies = [
  { type: 'Pods', value: 4, periodSeconds: 15 },
  { type: 'Percent', value: 100, periodSeconds: 15 },
] as const;

/** Kubernetes' default scale-down policy: up to all pods at once per 15 s (the window does the damping). */
export const defaultScaleDownPolicies = [
  { type: 'Percent', value: 100, periodSeconds: 15 },
] as const;
