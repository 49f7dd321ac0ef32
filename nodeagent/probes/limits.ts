/** Bounds of the prober; each says why it is what it is. Defaults are Kubernetes' own. */
export const probeLimits = {
  /** Probe defaults when the spec leaves them out (Kubernetes API defaulting). */
  periodSecondsDefault: 10,
  timeoutSecondsDefault: 1,
  successThresholdDefault: 1,
  failureThresholdDefault: 3,
  /** Bytes of an HTTP probe's body read for its message (Kubernetes reads at most 10 KiB). */
  httpBodyBytesMax: 10 * 1024,
  /** Same-host redirects an HTTP probe follows (the kubelet's, Go's http.Client default). */
  httpRedirectsMax: 10,
  /** Bytes of an exec probe's output kept for its message: enough to say why, not a log. */
  execOutputBytesMax: 1024,
  /** A sleep hook longer than this is cut (the hook is also bounded by the caller's timeoutMs). */
  sleepHookMsMax: 10 * 60_000,
} as const;

export const probeUserAgent = 'kube-probe/1.30';
