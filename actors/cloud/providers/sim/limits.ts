/**
 * Bounds of the `sim` provider (each with its reason), checked when a provider is created.
 */
import { assert } from '../../../../bus/index.js';
import { providerLimits } from '../shared/limits.js';

export const simLimits = {
  /** Instances one scripted cloud may list: the node-scale benchmarks go to 5,000 nodes; 10,000 leaves room without letting a runaway generator fill memory. */
  instancesMax: 10_000,
  /** Largest scripted API latency (plus jitter): beyond a minute no controller's call timeout would ever see an answer, which tests nothing. */
  latencyMsMax: 60_000,
  /** Addresses one scripted instance may carry (a real instance has a handful). */
  addressesPerInstanceMax: 16,
} as const;

export function checkSimLimits(): void {
  assert(simLimits.instancesMax > 0 && simLimits.addressesPerInstanceMax > 0 && simLimits.latencyMsMax > 0, 'sim limits must be positive');
  // A listed instance takes well over 50 bytes of YAML: a file under the size bound can list them all.
  assert(providerLimits.configFileBytesMax >= simLimits.instancesMax * 50, 'configFileBytesMax cannot hold instancesMax instances');
}
