/**
 * Bounds of the telemetry folder. Each says why it has the value it has.
 */
export const telemetryLimits = {
  /**
   * Histogram buckets of the API request latency, in seconds: Kubernetes' own
   * (apiserver_request_duration_seconds), so dashboards built for kube-apiserver read ours.
   */
  apiRequestBucketsSeconds: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
  /** Store latencies (proposal, disk commit, apply): etcd's fsync buckets, 1 ms doubling to 8 s. */
  storeBucketsSeconds: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192],
  /** Runtime operations: the kubelet's (exponential from 5 ms by 2.5, 14 buckets), up to ~3.7 min for an image pull. */
  runtimeBucketsSeconds: [0.005, 0.0125, 0.03125, 0.078125, 0.1953125, 0.48828125, 1.220703125, 3.0517578125, 7.62939453125, 19.073486328125, 47.6837158203125, 119.20928955078125, 298.0232238769531, 745.0580596923828],
  /**
   * Pod start: sub-second resolution first (the goal is p99 ≤ 1 s with cri), then the kubelet's
   * coarse buckets up to 10 min (an image pull behind a slow registry).
   */
  podStartBucketsSeconds: [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 300, 600],
  /**
   * Pods whose start the agent is still timing (seen, not yet Running/Ready). A node runs at most
   * a few hundred pods (maxPods 110 by default); beyond this the oldest is forgotten, not timed.
   */
  podsTrackedMax: 10_000,
  /** A scrape that takes longer is abandoned: Prometheus' default scrape timeout is 10 s. */
  scrapeTimeoutMs: 10_000,
  /** Concurrent connections to an agent's plain-HTTP /metrics server: a scraper or two, a curl. */
  metricsServerConnectionsMax: 16,
  /** Request headers an agent's /metrics server waits for before dropping a client (slowloris). */
  metricsServerHeadersTimeoutMs: 5_000,
} as const;

/** Start-up check that the bounds agree with each other (STYLE.md rule 5). */
export function checkTelemetryLimits(): void {
  for (const [name, buckets] of Object.entries({
    apiRequestBucketsSeconds: telemetryLimits.apiRequestBucketsSeconds,
    storeBucketsSeconds: telemetryLimits.storeBucketsSeconds,
    runtimeBucketsSeconds: telemetryLimits.runtimeBucketsSeconds,
    podStartBucketsSeconds: telemetryLimits.podStartBucketsSeconds,
  })) {
    for (let i = 1; i < buckets.length; i++) {
      if (!((buckets[i] ?? 0) > (buckets[i - 1] ?? 0))) throw new Error(`telemetry: ${name} must increase`);
    }
  }
  if (telemetryLimits.metricsServerHeadersTimeoutMs >= telemetryLimits.scrapeTimeoutMs) throw new Error('telemetry: the header timeout must be below the scrape timeout');
}
