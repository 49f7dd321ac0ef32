/**
 * The runtime folder's public surface: the CRI-shaped contract (types.ts), `createRuntime` for
 * the composition root, the runtimes' typed errors, and the CRI log writer shared by runtimes
 * that write their containers' logs themselves.
 */
import { checkRuntimeLimits } from './limits.js';
import { HollowRuntime } from './hollow.js';
import { UnknownRuntimeError } from './errors.js';
import { ProcessRuntime } from './process/process-runtime.js';
import type { RuntimeOptions } from './options.js';
import type { ContainerRuntime, RuntimeName } from './types.js';
import { openCriRuntime } from './cri/index.js';
import { openDockerRuntime } from './docker/index.js';

export * from './types.js';
export {
  RuntimeUnsupportedError, UnknownRuntimeError, SandboxNotFoundError, ContainerNotFoundError, ContainerStateError,
  ContainerCommandMissingError, PodCidrUnavailableError, InvalidPodCidrError, PodIpExhaustedError, ContainerCapacityError, PortForwardError,
  ImagePullError, RuntimeUnavailableError, type ImagePullErrorReason,
} from './errors.js';
export type { CriRuntimeOptions } from './cri/index.js';
export type { DockerRuntimeOptions } from './docker/index.js';
export { ProcessRuntime } from './process/process-runtime.js';
export { killProcessContainers } from './process/sweep.js';
export { containerRuntimeLimits, checkRuntimeLimits } from './limits.js';
export { hollowAnnotations, HollowRuntime } from './hollow.js';
export { IpAllocator, parseIpv4Cidr, isLoopbackCidr, cidrContains, type IpAllocatorState, type Ipv4Cidr } from './ip-allocator.js';
export type { RuntimeOptions } from './options.js';
export { CriLogWriter, splitOutput, formatCriTimestamp, parseCriLogLine, type CriLogLine, type LogStream, type LogTag, type SplitLine, type CriLogWriterOptions } from './cri-log-writer.js';

export const runtimeNames = ['cri', 'docker', 'process', 'hollow'] as const;

/** The runtime `kubus agent --runtime <name>` runs pods with: connects to (or starts) the daemon of cri and docker. */
export async function openRuntime(name: RuntimeName, options: RuntimeOptions): Promise<ContainerRuntime> {
  switch (name) {
    case 'cri':
      return openCriRuntime(options);
    case 'docker':
      return openDockerRuntime(options);
    default:
      return createRuntime(name, options);
  }
}

/** The daemon-less runtimes, synchronously (tests, the hollow-node host). */
export function createRuntime(name: 'process' | 'hollow', options: RuntimeOptions): ContainerRuntime {
  checkRuntimeLimits();
  switch (name) {
    case 'hollow':
      return new HollowRuntime(options);
    case 'process':
      return new ProcessRuntime(options);
    default:
      throw new UnknownRuntimeError(String(name), runtimeNames);
  }
}
