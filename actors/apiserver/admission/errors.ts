/**
 * Failures inside admission that are not yet an answer: a webhook that could not be called or gave
 * a malformed answer. The dispatcher turns them into the client's ApiError according to the
 * webhook's failurePolicy (Fail: 500 naming the webhook; Ignore: the webhook is skipped).
 */
import { KubusError, type ErrorFields } from '../../../bus/errors.js';

export class WebhookCallError extends KubusError {
  override readonly name = 'WebhookCallError';
  readonly code = 'webhookCall';
  constructor(readonly webhook: string, readonly reason: string, options?: { cause?: unknown }) {
    super(`failed calling webhook "${webhook}": ${reason}`, options);
  }
  override fields(): ErrorFields {
    return { webhook: this.webhook, reason: this.reason };
  }
}
