/** Revokes a node's NATS user when its Node is deleted or its bootstrap token revoked (issue 11 §1). Placeholder until built. */
import type { ControllerSpec } from '../runtime/types.js';

export const nodeCredentialsController: ControllerSpec = {
  name: 'nodecredentials',
  watch: () => undefined,
  reconcile: async () => undefined,
};
