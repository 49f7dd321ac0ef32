/**
 * Issue 13 §4 acceptance with the docker runtime: pods as Docker containers (a pause sandbox
 * holding the network namespace, the pod's containers joining it). The scenario and what it
 * proves: acceptance-scenario.ts.
 */
import { defineAcceptanceSuite } from './acceptance-scenario.js';

defineAcceptanceSuite('docker');
