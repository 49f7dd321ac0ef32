/**
 * Kubernetes timestamps (`metav1.Time`): RFC 3339 in UTC at second precision, as the API writes
 * creationTimestamp, condition transitions and taints' timeAdded. Takes epoch ms from the
 * caller's injected wall clock: nothing here reads the time itself.
 */
export function rfc3339Seconds(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
