/**
 * Operating errors of node IPAM (STYLE rule 7): a `--cluster-cidr` or mask size the allocator
 * cannot use is refused at start with the flag's name, never guessed at.
 */
import { KubusError } from '../../../bus/errors.js';

export class InvalidCidrError extends KubusError {
  override readonly name = 'InvalidCidrError';
  readonly code = 'invalidCidr';
  constructor(readonly cidr: string, reason: string) {
    super(`invalid CIDR "${cidr}": ${reason}`);
  }
}

export class InvalidNodeCidrMaskError extends KubusError {
  override readonly name = 'InvalidNodeCidrMaskError';
  readonly code = 'invalidNodeCidrMask';
  constructor(readonly cidr: string, readonly maskSize: number, reason: string) {
    super(`node CIDR mask size ${maskSize} does not fit cluster CIDR ${cidr}: ${reason}`);
  }
}
