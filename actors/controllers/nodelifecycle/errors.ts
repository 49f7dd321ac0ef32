/** Operating errors of the node controllers (STYLE rule 7). */
import { KubusError } from '../../../bus/errors.js';

/** A controller flag whose value cannot be used: refused when the controller starts, naming the flag. */
export class InvalidControllerOptionError extends KubusError {
  override readonly name = 'InvalidControllerOptionError';
  readonly code = 'invalidControllerOption';
  constructor(readonly option: string, readonly value: unknown, expected: string) {
    super(`--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${JSON.stringify(value)} is not ${expected}`);
  }
}
