/**
 * One node's kubelet part on simulated time: the pod manager over the fake runtime, volumes,
 * env, prober and status sink (test/nodeagent/fake-runtime.ts). `advance` moves the clock in
 * small steps and lets the workers' promises run between them, so a test reads like a timeline.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { SimulatedClock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import type { Bus } from '../../../bus/transport.js';
import type { ApiClient } from '../../../actors/controllers/runtime/types.js';
import type { AgentContext, NodeHandle } from '../../../nodeagent/agent-context.js';
import { createPodManager, type PodManager } from '../../../nodeagent/kubelet/index.js';
import { FakeProber, FakeRuntime, FakeStatusSink, FakeVolumes, fakeEnv } from '../fake-runtime.js';

export const wallStartMs = Date.UTC(2026, 0, 1);

export function silentLogger(): Logger {
  const logger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => logger };
  return logger;
}

/** An API that never answers: the control plane is away. */
export const unreachableApi = new Proxy({}, { get: () => async () => { throw new Error('API unreachable'); } }) as ApiClient;

export const node: NodeHandle = { podCidr: () => null, registered: async () => {}, stop: async () => {} };

let podCounter = 0;

export function makePod(spec: Partial<NonNullable<Pod['spec']>> & { containers?: Container[] }, name?: string): Pod {
  podCounter++;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: name ?? `p${podCounter}`, namespace: 'default', uid: `uid-${name ?? podCounter}` },
    spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'img', command: ['run'] }], ...spec },
  };
}

export interface Kubelet {
  readonly clock: SimulatedClock;
  readonly calls: string[];
  readonly runtime: FakeRuntime;
  readonly prober: FakeProber;
  readonly status: FakeStatusSink;
  readonly volumes: FakeVolumes;
  readonly manager: PodManager;
  readonly dir: string;
  settle(): Promise<void>;
  advance(ms: number, stepMs?: number): Promise<void>;
  /** The newest status of the pod's container `name` (containerStatuses or initContainerStatuses). */
  containerStatus(pod: Pod, name: string): import('kubernetes-types/core/v1.js').ContainerStatus | undefined;
}

export function startKubelet(options: { readonly dir?: string; readonly runtime?: FakeRuntime; readonly clock?: SimulatedClock; readonly allowPrivileged?: boolean; readonly secretData?: (namespace: string, name: string) => Promise<Readonly<Record<string, Buffer>> | null> } = {}): Kubelet {
  const clock = options.clock ?? new SimulatedClock();
  const wallClock = (): Date => new Date(wallStartMs + clock.now());
  const runtime = options.runtime ?? new FakeRuntime(() => wallClock().getTime());
  const calls = runtime.calls;
  const prober = new FakeProber(calls);
  const status = new FakeStatusSink(calls);
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'kubus-kubelet-'));
  const ctx: AgentContext = {
    nodeName: 'n1', cluster: 'test', dir, api: unreachableApi, bus: {} as Bus, clock, wallClock, logger: silentLogger(),
  };
  const volumes = new FakeVolumes(calls);
  const manager = createPodManager(ctx, {
    runtime, node, volumes, env: fakeEnv, prober, status, nodeIp: '192.0.2.10',
    ...(options.allowPrivileged !== undefined ? { allowPrivileged: options.allowPrivileged } : {}),
    ...(options.secretData !== undefined ? { secretData: options.secretData } : {}),
  });
  const settle = async (): Promise<void> => {
    // Drains the promise jobs and I/O callbacks the workers queued (no time passes on the clock).
    for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return {
    clock, calls, runtime, prober, status, volumes, manager, dir, settle,
    async advance(ms, stepMs = 100) {
      await settle();
      for (let passed = 0; passed < ms; passed += stepMs) {
        clock.advance(Math.min(stepMs, ms - passed));
        await settle();
      }
    },
    containerStatus(pod, name) {
      const latest = status.latest.get(pod.metadata?.uid ?? '');
      return [...(latest?.initContainerStatuses ?? []), ...(latest?.containerStatuses ?? [])].find((s) => s.name === name);
    },
  };
}
