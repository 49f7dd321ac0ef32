/** The telemetry folder's operating errors (STYLE.md rule 7). */
import { KubusError, type ErrorFields } from '../errors.js';

/** `--metrics-address` is neither `off` nor `host:port` / `:port` with a port in 0..65535. */
export class InvalidMetricsAddressError extends KubusError {
  override readonly name = 'InvalidMetricsAddressError';
  readonly code = 'invalidMetricsAddress';
  constructor(readonly value: string) {
    super(`--metrics-address "${value}": expected host:port, :port (the node IP) or off`);
  }
  override fields(): ErrorFields {
    return { value: this.value };
  }
}

/** The /metrics server could not listen (port taken, address not local). */
export class MetricsServerListenError extends KubusError {
  override readonly name = 'MetricsServerListenError';
  readonly code = 'metricsServerListen';
  constructor(readonly host: string, readonly port: number, override readonly cause: Error) {
    super(`cannot serve /metrics on ${host}:${port}: ${cause.message} (choose another --metrics-address, or off)`);
  }
  override fields(): ErrorFields {
    return { host: this.host, port: this.port };
  }
}
