/**
 * Why the agent cannot serve a log request. Each kind has its code (protocol.ts `LogsErrorCode`),
 * carried in the reply's `error` so the API server answers Kubernetes' Status for it.
 */
import { KubusError, type ErrorFields } from '../../bus/errors.js';
import type { LogsErrorCode } from './protocol.js';

export class LogsRequestError extends KubusError {
  override readonly name = 'LogsRequestError';
  constructor(readonly code: LogsErrorCode, message: string, readonly pod: string, readonly container: string) {
    super(message);
  }
  override fields(): ErrorFields {
    return { pod: this.pod, container: this.container };
  }
}
