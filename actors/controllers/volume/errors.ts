/** Operating errors of the volume binder and its provisioners, each with a stable code. */
import { KubusError, type ErrorFields } from '../../../bus/errors.js';

/** A provisioner could not produce a volume for a claim; the binder reports it as a ProvisioningFailed Event. */
export class ProvisioningFailedError extends KubusError {
  override readonly name = 'ProvisioningFailedError';
  readonly code = 'provisioningFailed';
  readonly provisioner: string;
  constructor(message: string, fields: { readonly provisioner: string }, options?: { cause?: unknown }) {
    super(message, options);
    this.provisioner = fields.provisioner;
  }
  override fields(): ErrorFields {
    return { provisioner: this.provisioner };
  }
}

/** A binding write lost its race more often than the bound allows; the work queue retries the key later. */
export class BindingContendedError extends KubusError {
  override readonly name = 'BindingContendedError';
  readonly code = 'bindingContended';
  readonly claim: string;
  constructor(message: string, fields: { readonly claim: string }) {
    super(message);
    this.claim = fields.claim;
  }
  override fields(): ErrorFields {
    return { claim: this.claim };
  }
}
