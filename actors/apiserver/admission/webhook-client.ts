/**
 * One AdmissionReview v1 call over HTTPS: POST the review to the webhook's `clientConfig.url`,
 * trusting only its `caBundle` (or the system roots when absent), within its timeout, reading a
 * bounded answer. Returns the review's `response`; every failure is a WebhookCallError, which the
 * dispatcher weighs against the webhook's failurePolicy.
 *
 * Decision: a WebhookCallError's reason reaches whoever made the request (often unprivileged), so
 * it names what went wrong in the webhook's terms (refused, unreachable, untrusted certificate,
 * timeout, HTTP status) and never the address, the URL or the raw socket error, which would let a
 * requester map the member's network. The raw error stays the `cause`, and the dispatcher logs it.
 *
 * Not done: `clientConfig.service` (resolving a Service to its endpoints needs the endpoints
 * controller and cluster DNS); such a webhook fails to be called, and failurePolicy decides.
 */
import { request as httpsRequest } from 'node:https';
import { WebhookCallError } from './errors.js';
import { admissionLimits } from './limits.js';
import type { WebhookSpec } from './webhook-matching.js';

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: { readonly code?: number; readonly message?: string; readonly reason?: string };
  readonly patch?: string;
  readonly patchType?: string;
  readonly warnings?: readonly string[];
}

/** The webhook's timeout in ms: its timeoutSeconds, defaulted and capped as Kubernetes does. */
export function webhookTimeoutMs(webhook: WebhookSpec): number {
  const seconds = typeof webhook.timeoutSeconds === 'number' && webhook.timeoutSeconds > 0 ? webhook.timeoutSeconds : admissionLimits.webhookTimeoutSecondsDefault;
  return Math.min(seconds, admissionLimits.webhookTimeoutSecondsMax) * 1_000;
}

function targetUrl(webhook: WebhookSpec): URL {
  const config = webhook.clientConfig ?? {};
  if (typeof config.url === 'string') {
    let url: URL;
    try {
      url = new URL(config.url);
    } catch {
      throw new WebhookCallError(webhook.name, 'clientConfig.url is not a URL');
    }
    if (url.protocol !== 'https:') throw new WebhookCallError(webhook.name, 'clientConfig.url must use https');
    return url;
  }
  if (config.service !== undefined) {
    throw new WebhookCallError(webhook.name, 'clientConfig.service is not supported yet: use clientConfig.url');
  }
  throw new WebhookCallError(webhook.name, 'clientConfig has neither url nor service');
}

function parseResponse(webhook: WebhookSpec, uid: string, text: string): AdmissionResponse {
  let review: unknown;
  try {
    review = JSON.parse(text) as unknown;
  } catch (error) {
    throw new WebhookCallError(webhook.name, 'the answer is not JSON', { cause: error });
  }
  const response = (review as { response?: unknown } | null)?.response;
  if (typeof response !== 'object' || response === null) throw new WebhookCallError(webhook.name, 'the answer has no AdmissionReview response');
  const r = response as Record<string, unknown>;
  if (r['uid'] !== uid) throw new WebhookCallError(webhook.name, `expected response.uid=${JSON.stringify(uid)}, got ${JSON.stringify(r['uid'])}`);
  if (typeof r['allowed'] !== 'boolean') throw new WebhookCallError(webhook.name, 'response.allowed must be a boolean');
  if (r['warnings'] !== undefined && !(Array.isArray(r['warnings']) && r['warnings'].every((w) => typeof w === 'string'))) {
    throw new WebhookCallError(webhook.name, 'response.warnings must be a list of strings');
  }
  return r as unknown as AdmissionResponse;
}

/** Sends `review` (an AdmissionReview with request.uid = `uid`) and returns its response. */
export function callWebhook(webhook: WebhookSpec, uid: string, review: unknown): Promise<AdmissionResponse> {
  const url = targetUrl(webhook);
  const caBundle = webhook.clientConfig?.caBundle;
  const body = JSON.stringify(review);
  const timeoutMs = webhookTimeoutMs(webhook);
  return new Promise((resolve, reject) => {
    const fail = (reason: string, cause?: unknown): void => reject(new WebhookCallError(webhook.name, reason, { cause }));
    const req = httpsRequest(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'Content-Length': Buffer.byteLength(body) },
      ...(typeof caBundle === 'string' && caBundle !== '' ? { ca: Buffer.from(caBundle, 'base64').toString('utf8') } : {}),
      timeout: timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > admissionLimits.webhookResponseBytesMax) {
          req.destroy();
          fail(`the answer is larger than ${admissionLimits.webhookResponseBytesMax} bytes`);
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) { fail(`the server answered HTTP ${res.statusCode ?? 0}`); return; }
        try {
          resolve(parseResponse(webhook, uid, Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          reject(error as Error);
        }
      });
      res.on('error', (error) => fail(networkReason(error), error));
    });
    // The socket timeout covers idle time; the overall deadline covers a trickling server.
    const deadline = setTimeout(() => { req.destroy(); fail(`context deadline exceeded (timeout ${timeoutMs / 1000}s)`); }, timeoutMs);
    req.on('timeout', () => { req.destroy(); fail(`context deadline exceeded (timeout ${timeoutMs / 1000}s)`); });
    req.on('error', (error) => fail(networkReason(error), error));
    req.on('close', () => clearTimeout(deadline));
    req.end(body);
  });
}

const tlsCodes = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID|ERR_SSL_)/;

/** A network failure in words a requester may see: the kind of failure, never the address (see the header). */
export function networkReason(error: Error): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return 'the connection failed';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name did not resolve';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'the connection was reset';
  if (code === 'ETIMEDOUT') return 'the connection timed out';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'the host is unreachable';
  if (tlsCodes.test(code)) return `the server's certificate is not trusted (${code})`;
  return `the connection failed (${code.replace(/[^A-Z0-9_]/g, '')})`;
}
