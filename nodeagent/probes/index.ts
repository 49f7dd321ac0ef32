/** The node agent's prober: startup, liveness and readiness probes and lifecycle hooks. */
export { createProber, probeTiming, type ProberOptions } from './prober.js';
export { resolvePort, runExecAction, runHttpGetAction, runTcpSocketAction, runSleepAction, type ActionContext, type ActionResult } from './probe-actions.js';
export { initialProbeResult, observeProbe, type ProbeKind, type ProbeOutcome, type ProbeResultState, type ProbeThresholds } from './probe-result.js';
export { probeWorkerMachine, type ProbeWorkerInput } from './probe-worker.js';
export { probeLimits } from './limits.js';
export { runGrpcAction, healthCheckRequest, healthCheckStatus } from './grpc-health.js';
