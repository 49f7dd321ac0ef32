/**
 * The runtime's pod sandboxes as the tunnel's far end reads them: once per open would be one
 * runtime call per tunnelled connection (a gRPC round trip with CRI), so a list younger than
 * `freshMs` is reused when it already contains the target, and opens arriving together share one
 * call. A target missing from the cached list is always checked against a new list, so a pod
 * that just started is never refused for a stale view; a pod just gone may be accepted for up to
 * `freshMs` (its address then refuses the connection, which the dialer hears as connectFailed).
 */
import type { Clock } from '../../bus/clock.js';
import type { ContainerRuntime, PodSandboxStatus } from '../runtime/types.js';
import { decideTarget, type TargetDecision } from './target.js';
import { tunnelLimits } from './limits.js';
import type { TunnelTarget } from './types.js';

export class PodSandboxView {
  private cached: { readonly atMs: number; readonly sandboxes: readonly PodSandboxStatus[] } | null = null;
  private inFlight: Promise<readonly PodSandboxStatus[]> | null = null;

  constructor(private readonly runtime: Pick<ContainerRuntime, 'listPodSandboxes'>, private readonly options: { readonly clock: Clock; readonly freshMs: number; readonly nodeAddresses?: readonly string[] }) {}

  async decide(target: TunnelTarget): Promise<TargetDecision> {
    const cached = this.cached;
    if (cached !== null && this.options.clock.now() - cached.atMs < this.options.freshMs) {
      const decision = decideTarget(target, cached.sandboxes, this.options.nodeAddresses);
      if (decision.accept) return decision;
    }
    return decideTarget(target, await this.list(), this.options.nodeAddresses);
  }

  private list(): Promise<readonly PodSandboxStatus[]> {
    this.inFlight ??= (async () => {
      const atMs = this.options.clock.now();
      try {
        const sandboxes = await withTimeout(this.runtime.listPodSandboxes(), tunnelLimits.sandboxListTimeoutMs, this.options.clock);
        this.cached = { atMs, sandboxes };
        return sandboxes;
      } finally {
        this.inFlight = null;
      }
    })();
    return this.inFlight;
  }
}

/** `work`, or a rejection naming the bound once `ms` passed (the open is then refused, not held). */
function withTimeout<T>(work: Promise<T>, ms: number, clock: Clock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => reject(new Error(`the container runtime did not list its pod sandboxes within ${ms} ms`)), ms);
    work.then((value) => { clock.clearTimeout(timer); resolve(value); }, (error: unknown) => { clock.clearTimeout(timer); reject(error); });
  });
}
