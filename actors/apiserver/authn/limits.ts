/** Every bound of the authentication layer, with the reason for its number. */
export const authnLimits = {
  /**
   * How long a credential read from the store (a kubus or bootstrap token Secret, a ServiceAccount)
   * is trusted before it is read again. This is the revocation delay: `kubus token revoke` takes
   * effect on every member within it. One second keeps that well under what an operator notices,
   * while a busy client (a node agent's heartbeats) costs the store one read per second, not one per request.
   */
  storeCacheTtlMs: 1_000,
  /**
   * Cached credentials per member. One entry per distinct token or ServiceAccount seen within the
   * TTL; a client flooding random well-formed tokens evicts the oldest entries (costing reads, never
   * memory), and a real cluster has far fewer live credentials than this.
   */
  storeCacheEntriesMax: 4_096,
  /** A bearer token longer than this is no token kubus issues (a JWT here is ~600 bytes): 401 without parsing. */
  bearerTokenBytesMax: 8_192,
  /**
   * Leeway on a JWT's `exp` and `nbf` for clocks that differ between the member that issued a
   * token and the one that checks it: Kubernetes' value (go-jose's DefaultLeeway, one minute).
   */
  clockLeewaySeconds: 60,
  /** Default lifetime of a TokenRequest (Kubernetes' default is one hour). */
  serviceAccountTokenSecondsDefault: 3_600,
  /** Kubernetes refuses TokenRequests under ten minutes; so do we. */
  serviceAccountTokenSecondsMin: 600,
  /** And caps them: a leaked token is useful for at most a day unless its ServiceAccount is deleted sooner. */
  serviceAccountTokenSecondsMax: 86_400,
} as const;
