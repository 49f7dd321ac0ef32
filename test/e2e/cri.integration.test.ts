/**
 * Issue 13 §4 acceptance with the cri runtime: agents each run a private containerd (over CRI
 * v1), pods on its CNI bridge. The scenario and what it proves: acceptance-scenario.ts.
 */
import { defineAcceptanceSuite } from './acceptance-scenario.js';

defineAcceptanceSuite('cri');
