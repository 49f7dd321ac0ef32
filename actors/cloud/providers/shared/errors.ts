/**
 * Typed errors of the shipped providers' configuration (the provider contract's own errors,
 * CloudProviderError and InstanceNotFoundError, come from ../../provider.ts).
 */
import { KubusError, type ErrorFields } from '../../../../bus/index.js';

/** `--cloud-config` cannot be read or does not describe a valid configuration; the message names the field. */
export class CloudConfigInvalidError extends KubusError {
  override readonly name = 'CloudConfigInvalidError';
  readonly code = 'cloudConfigInvalid';
  constructor(readonly provider: string, readonly file: string, readonly problem: string, options?: { cause?: unknown }) {
    super(`cloud provider ${provider}: --cloud-config ${file}: ${problem}`, options);
  }
  override fields(): ErrorFields {
    return { provider: this.provider, file: this.file, problem: this.problem };
  }
}

/** A provider that needs a configuration file was started without `--cloud-config`. */
export class CloudConfigMissingError extends KubusError {
  override readonly name = 'CloudConfigMissingError';
  readonly code = 'cloudConfigMissing';
  constructor(readonly provider: string, readonly example: string) {
    super(`cloud provider ${provider} needs --cloud-config <file>; for example:\n${example}`);
  }
  override fields(): ErrorFields {
    return { provider: this.provider };
  }
}
