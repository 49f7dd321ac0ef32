/** Operating errors of the service proxy (logged; the proxy itself never stops for them). */
import { KubusError, type ErrorFields } from '../../bus/errors.js';

/** Every endpoint tried for a connection failed (or none was eligible): the client is reset. */
export class NoEndpointError extends KubusError {
  override readonly name = 'NoEndpointError';
  readonly code = 'noEndpoint';
  constructor(readonly service: string, readonly port: string, readonly tried: readonly string[], options?: { cause?: unknown }) {
    super(tried.length === 0
      ? `service ${service} port ${port || '(unnamed)'} has no ready endpoint`
      : `service ${service} port ${port || '(unnamed)'}: no endpoint answered (tried ${tried.join(', ')})`, options);
  }
  override fields(): ErrorFields {
    return { service: this.service, port: this.port, tried: this.tried };
  }
}

/** Connecting to one endpoint did not finish within `timeoutMs`. */
export class EndpointConnectTimeoutError extends KubusError {
  override readonly name = 'EndpointConnectTimeoutError';
  readonly code = 'endpointConnectTimeout';
  constructor(readonly endpoint: string, readonly timeoutMs: number) {
    super(`connecting to endpoint ${endpoint} took more than ${timeoutMs} ms (proxyLimits.connectTimeoutMs)`);
  }
  override fields(): ErrorFields {
    return { endpoint: this.endpoint, timeoutMs: this.timeoutMs };
  }
}

/** A Service address cannot be listened on here (not local, and the agent may not make it local). */
export class AddressNotServedError extends KubusError {
  override readonly name = 'AddressNotServedError';
  readonly code = 'addressNotServed';
  /** `port` is set when only that port is refused (privilege), not the whole address. */
  constructor(readonly address: string, readonly reason: string, readonly port?: number) {
    super(`cannot listen on ${address}${port !== undefined ? ` port ${port}` : ''}: ${reason}`);
  }
  override fields(): ErrorFields {
    return { address: this.address, reason: this.reason, ...(this.port !== undefined ? { port: this.port } : {}) };
  }
}
