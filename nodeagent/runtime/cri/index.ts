/**
 * The `cri` runtime: containerd (or CRI-O) over the CRI v1 gRPC API on its unix socket.
 * (Stub: filled in by issue 13's CRI work.)
 */
import { RuntimeUnavailableError } from '../errors.js';
import type { RuntimeOptions } from '../options.js';
import type { ContainerRuntime } from '../types.js';

export interface CriRuntimeOptions {
  /** The CRI socket of a running containerd; absent: the agent starts a private containerd under `<dir>/runtime/containerd`. */
  readonly socket?: string;
  /** The pod network's subnet for the private containerd's CNI bridge (absent: one derived from the node name). */
  readonly podSubnet?: string;
}

export async function openCriRuntime(options: RuntimeOptions): Promise<ContainerRuntime> {
  throw new RuntimeUnavailableError('cri', options.cri?.socket ?? 'a private containerd', 'not built yet');
}
