/**
 * Every bound of the `cri` runtime, with its reason (STYLE rule 5).
 */
import { assert } from '../../../bus/assert.js';

export const criLimits = {
  /** Deadline of a quick CRI call (status, list, create, start): containerd answers in ms; longer means it is stuck. */
  callDeadlineMs: 15_000,
  /** Deadline of RunPodSandbox: the pause container plus CNI setup (≈90 ms here; a loaded host with many pods is much slower). */
  sandboxDeadlineMs: 60_000,
  /** Deadline of PullImage: a registry pull of a large image can take minutes; past this the pull is reported failed and backs off. */
  pullDeadlineMs: 5 * 60_000,
  /** Extra time granted to StopContainer / ExecSync over the caller's own timeout (containerd's own bookkeeping). */
  callSlackMs: 10_000,
  /** How long `openCriRuntime` waits for Version and Status to answer (a private containerd starts in ≈1 s). */
  openWaitMs: 30_000,
  /** Between two readiness probes of the socket while waiting. */
  openPollMs: 100,
  /** How long a private containerd gets to exit on SIGTERM when a test stops it before the SIGKILL. */
  daemonStopMs: 10_000,
  /** How long `ctr images import` of a local image tar may take (a few MB). */
  imageImportMs: 60_000,
  /** How often container states are polled for `onEvent` (containerd 1.6 has no GetContainerEvents): an exit is seen at most this late. */
  eventPollMs: 500,
  /** Containers remembered by the event poller (their last state); beyond it the oldest are forgotten (a later exit is found by relist). */
  eventTrackedContainersMax: 4096,
  /** Bytes kept per stream of an `execSync` result: the probe's output is reported, not stored. */
  execOutputBytesMax: 1024 * 1024,
  /** Size of one frame sent to the streaming server (stdin chunk): the Kubernetes stream server reads 32 KiB at a time. */
  streamFrameBytesMax: 32 * 1024,
  /** How long connecting to containerd's streaming server (the Exec/Attach URL) may take: it is on loopback. */
  streamConnectMs: 10_000,
  /** After an attach stream ends, how long to wait for containerd to record the container's exit (ms after the stream; longer: it still runs). */
  attachExitWaitMs: 5_000,
  /** Between two status reads while waiting for that exit. */
  attachExitPollMs: 50,
  /** How often running containers' log files are checked for rotation: the kubelet's containerLogMonitorInterval (10 s). A chatty container may overshoot the size bound by what it writes meanwhile. */
  logRotatePollMs: 10_000,
  /** Container statuses remembered by listContainers (a node runs at most a few hundred pods; past it the oldest are asked again). */
  statusCacheEntriesMax: 4096,
  /** Lines of a private containerd's log quoted in the error when it does not come up. */
  logTailLines: 8,
  /** Largest gRPC message accepted from containerd (lists of thousands of containers, verbose info). */
  grpcMessageBytesMax: 16 * 1024 * 1024,
} as const;

export function checkCriLimits(): void {
  assert(criLimits.openPollMs < criLimits.openWaitMs, 'the open poll fits in its wait');
  assert(criLimits.callDeadlineMs <= criLimits.sandboxDeadlineMs, 'a sandbox call may take at least as long as a quick call');
  assert(criLimits.eventPollMs > 0 && criLimits.eventTrackedContainersMax > 0, 'the event poller is bounded and runs');
}
