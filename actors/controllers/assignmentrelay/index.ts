/** The assignment relay: one pod watch fanned out to `node.<N>.assign` (issue 11 §4). Placeholder until built. */
import type { ControllerSpec } from '../runtime/types.js';

export const assignmentRelay: ControllerSpec = {
  name: 'assignmentrelay',
  watch: () => undefined,
  reconcile: async () => undefined,
};
