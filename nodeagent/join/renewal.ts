/**
 * When to renew (pure): at a fraction of the lifetime from issue to expiry, never in the past.
 * The certificate at 80 % (the kubelet renews between 70 and 90 %), NATS user and API token at
 * 2/3 (joinLimits), so a failed renewal still has a third of the lifetime for retries.
 */
import { X509Certificate } from 'node:crypto';
import type { NodeCredentials } from './node-credentials.js';
import { joinLimits } from './limits.js';

export function renewAtMs(issuedAtMs: number, expiresAtMs: number, fraction: number): number {
  return issuedAtMs + Math.max(0, expiresAtMs - issuedAtMs) * fraction;
}

/** The certificate's renewal time, from its own validity window. */
export function certificateRenewAtMs(certPem: string): number {
  const cert = new X509Certificate(certPem);
  return renewAtMs(Date.parse(cert.validFrom), Date.parse(cert.validTo), joinLimits.certificateRenewFraction);
}

/** Whichever of the NATS user and the API token must be renewed first (one request renews both). */
export function credentialsRenewAtMs(credentials: NodeCredentials): number {
  const expiresAtMs = Math.min(Date.parse(credentials.nats.expiresAt), Date.parse(credentials.apiToken.expiresAt));
  return renewAtMs(credentials.receivedAtMs, expiresAtMs, joinLimits.credentialsRenewFraction);
}

/** Still usable at `nowMs` (an offline restart reuses stored credentials only while they hold). */
export function credentialsValidAt(credentials: NodeCredentials, nowMs: number): boolean {
  return Date.parse(credentials.nats.expiresAt) > nowMs && Date.parse(credentials.apiToken.expiresAt) > nowMs;
}

/** The retry delay after `attempt` failures: doubling from the minimum, capped. */
export function retryDelayMs(attempt: number): number {
  return Math.min(joinLimits.retryDelayMaxMs, joinLimits.retryDelayMinMs * 2 ** Math.min(attempt, 16));
}
