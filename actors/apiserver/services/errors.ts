/** Operating errors of the Service allocators. */
import { KubusError } from '../../../bus/index.js';

/** A `--service-cluster-ip-range` or `--service-node-port-range` the member cannot serve: start fails naming the flag. */
export class ServiceRangeFlagError extends KubusError {
  readonly code = 'serviceRangeInvalid';
  constructor(readonly flag: string, readonly value: string, reason: string) {
    super(`${flag} ${JSON.stringify(value)}: ${reason}`);
  }

  override fields(): Record<string, unknown> {
    return { flag: this.flag, value: this.value };
  }
}
