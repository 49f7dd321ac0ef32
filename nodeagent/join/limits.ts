/** Every bound of joining and renewal, in one place (STYLE.md rule 5). */
export const joinLimits = {
  /** One HTTPS request to the API (CSR, credentials): a member that accepts and never answers must not hang the join. */
  requestTimeoutMs: 10_000,
  /** The TLS handshake that fetches the CA. */
  handshakeTimeoutMs: 10_000,
  /** A first join retries an unreachable server this many times (about 4 minutes with the delays below), then gives up saying so. */
  joinAttemptsMax: 20,
  /** First retry delay; doubles each attempt up to `retryDelayMaxMs`. */
  retryDelayMinMs: 1_000,
  /** A renewal or an offline restart keeps retrying forever (pods run meanwhile), at most this far apart. */
  retryDelayMaxMs: 15_000,
  /** A CSR not signed on create (kubus signs on create; a cluster with manual approval does not) is polled this long. */
  csrWaitMs: 60_000,
  csrPollIntervalMs: 1_000,
  /** The certificate is renewed at this fraction of its lifetime (the kubelet renews at 70–90 %). */
  certificateRenewFraction: 0.8,
  /** NATS user and API token: at 2/3 of their lifetime, so one failed renewal still leaves time for retries. */
  credentialsRenewFraction: 2 / 3,
  /** A response body larger than this is refused (a credentials answer is about 2 KiB). */
  responseBytesMax: 1024 * 1024,
  /** The first NATS connection attempt; later ones happen in the background (nats.js reconnects). */
  natsConnectTimeoutMs: 10_000,
} as const;
