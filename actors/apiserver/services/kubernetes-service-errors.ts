/** Why a member cannot publish itself in the `kubernetes` Service: bad flags, named so the user can fix them. */
import { KubusError } from '../../../bus/index.js';

export class KubernetesServiceConfigError extends KubusError {
  readonly code = 'kubernetesServiceConfig';
  override readonly name = 'KubernetesServiceConfigError';
  constructor(readonly flag: '--service-cluster-ip-range' | '--advertise-address', readonly value: string, reason: string) {
    super(`${flag} ${JSON.stringify(value)}: ${reason}`);
  }

  override fields(): Record<string, unknown> {
    return { flag: this.flag, value: this.value };
  }
}
