/** Why a member cannot publish itself in the `kubernetes` Service: a bad --advertise-address, named so the user can fix it (a bad range is the allocator's ServiceRangeFlagError). */
import { KubusError } from '../../../bus/index.js';

export class KubernetesServiceConfigError extends KubusError {
  readonly code = 'kubernetesServiceConfig';
  override readonly name = 'KubernetesServiceConfigError';
  constructor(readonly flag: '--advertise-address', readonly value: string, reason: string) {
    super(`${flag} ${JSON.stringify(value)}: ${reason}`);
  }

  override fields(): Record<string, unknown> {
    return { flag: this.flag, value: this.value };
  }
}
