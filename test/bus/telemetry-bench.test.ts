/**
 * The pure parts of `npm run bench:pods`: the pod manifest it creates (image present, never
 * pulled), the percentiles over every pod created (a pod that never started counts as slowest,
 * so failures cannot make a run look fast), and the reading of the agents' Prometheus histogram
 * (cumulative buckets merged, the quantile as a bucket bound).
 */
import { describe, expect, it } from 'vitest';
import { benchPod, summarize } from '../../scenarios/bench/pod-startup.js';
import { bucketQuantile, mergedQuantile, parseHistogram } from '../../scenarios/bench/pod-metrics.js';

describe('bench:pods', () => {
  it('creates stateless pods with imagePullPolicy Never and no grace', () => {
    const pod = benchPod('bench-0001', { namespace: 'ns', image: 'kubus.local/busybox:1.35', command: ['sleep', '3600'] });
    expect(pod.spec?.containers[0]).toMatchObject({ image: 'kubus.local/busybox:1.35', imagePullPolicy: 'Never', command: ['sleep', '3600'] });
    expect(pod.spec?.terminationGracePeriodSeconds).toBe(0);
    expect(pod.metadata).toMatchObject({ name: 'bench-0001', namespace: 'ns' });
  });

  it('takes percentiles over every pod created, the missing ones as slowest', () => {
    const all = summarize({ scheduledMs: [10, 20, 30, 40], runningMs: [100, 200, 300, 400], readyMs: [110, 210, 310, 410] }, 4);
    expect(all).toEqual({ scheduledP50Ms: 20, runningP50Ms: 200, runningP99Ms: 400, readyP50Ms: 210, readyP99Ms: 410, readyMaxMs: 410 });
    const missing = summarize({ scheduledMs: [1, 2, 3, 4], runningMs: [100, 200, 300], readyMs: [110, 210] }, 4);
    expect(missing.runningP99Ms).toBe(Number.POSITIVE_INFINITY);
    expect(missing.readyP50Ms).toBe(210);
    expect(missing.readyMaxMs).toBe(Number.POSITIVE_INFINITY);
  });

  it('reads a histogram from exposition text and bounds its quantile by a bucket', () => {
    const text = [
      '# HELP kubelet_pod_start_duration_seconds x',
      '# TYPE kubelet_pod_start_duration_seconds histogram',
      'kubelet_pod_start_duration_seconds_bucket{le="0.5"} 10',
      'kubelet_pod_start_duration_seconds_bucket{le="1"} 98',
      'kubelet_pod_start_duration_seconds_bucket{le="2"} 100',
      'kubelet_pod_start_duration_seconds_bucket{le="+Inf"} 100',
      'kubelet_pod_start_duration_seconds_sum 71.5',
      'kubelet_pod_start_duration_seconds_count 100',
      'kubus_pod_ready_duration_seconds_count 3',
    ].join('\n');
    const histogram = parseHistogram(text, 'kubelet_pod_start_duration_seconds');
    expect(histogram.count).toBe(100);
    expect(histogram.sum).toBe(71.5);
    expect(bucketQuantile(histogram.buckets, histogram.count, 0.5)).toBe(1);
    expect(bucketQuantile(histogram.buckets, histogram.count, 0.99)).toBe(2);
    expect(bucketQuantile(new Map([[Number.POSITIVE_INFINITY, 5]]), 5, 0.99)).toBe(Number.POSITIVE_INFINITY);
  });

  it('sums a histogram over the series a label filter selects, and over members', () => {
    const member = (ok: number, error: number): string => [
      `kubus_store_proposal_duration_seconds_bucket{le="0.01",outcome="ok"} ${ok}`,
      `kubus_store_proposal_duration_seconds_bucket{le="0.1",outcome="ok"} ${ok * 2}`,
      `kubus_store_proposal_duration_seconds_bucket{le="+Inf",outcome="ok"} ${ok * 2}`,
      `kubus_store_proposal_duration_seconds_count{outcome="ok"} ${ok * 2}`,
      `kubus_store_proposal_duration_seconds_bucket{le="0.01",outcome="error"} 0`,
      `kubus_store_proposal_duration_seconds_bucket{le="+Inf",outcome="error"} ${error}`,
      `kubus_store_proposal_duration_seconds_count{outcome="error"} ${error}`,
    ].join('\n');
    expect(parseHistogram(member(5, 3), 'kubus_store_proposal_duration_seconds').count).toBe(13);
    expect(parseHistogram(member(5, 3), 'kubus_store_proposal_duration_seconds', ['outcome="ok"']).buckets.get(0.1)).toBe(10);
    expect(mergedQuantile([member(5, 3), member(50, 0)], 'kubus_store_proposal_duration_seconds', 0.99, ['outcome="ok"'])).toBe(0.1);
    expect(mergedQuantile([member(5, 3)], 'kubus_store_proposal_duration_seconds', 0.99)).toBe(Number.POSITIVE_INFINITY);
    expect(mergedQuantile([''], 'kubus_store_proposal_duration_seconds', 0.5)).toBeNull();
  });
});
