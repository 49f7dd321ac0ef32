/**
 * The Node part against an in-memory API on simulated time: registration (and takeover), the
 * Lease every renew interval with short retries after failures, the full status only when due,
 * the pod CIDR learned and kept in node.json for an offline restart.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { apiStatusError } from '../../../actors/controllers/runtime/api-errors.js';
import type { ApiClient, ResourceRef } from '../../../actors/controllers/runtime/types.js';
import type { AgentContext, NodeConfig } from '../../../nodeagent/agent-context.js';
import { startNode } from '../../../nodeagent/node/index.js';
import type { HostReadings } from '../../../nodeagent/node/host-readings.js';
import type { ContainerRuntime, RuntimeStatus } from '../../../nodeagent/runtime/types.js';
import { defaultServicesConfig } from '../../../nodeagent/agent.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

/** Nodes and Leases in a map; every write counted; `down` makes every call fail as an unreachable API would. */
class FakeApi {
  readonly objects = new Map<string, { metadata: { name: string; uid?: string; resourceVersion?: string; labels?: Record<string, string> }; [key: string]: unknown }>();
  readonly writes: string[] = [];
  down = false;
  private rv = 1;

  private key(resource: ResourceRef, name: string): string {
    return `${resource.resource}/${name}`;
  }
  private check(): void {
    if (this.down) throw new Error('no responders: the API is unreachable');
  }
  private store<T>(key: string, body: unknown): T {
    const object = structuredClone(body) as { metadata: { name: string; uid?: string; resourceVersion?: string } };
    object.metadata.uid ??= `uid-${key}`;
    object.metadata.resourceVersion = String(this.rv++);
    this.objects.set(key, object);
    return structuredClone(object) as T;
  }
  readonly client: ApiClient = {
    get: async <T>(resource: ResourceRef, _ns: string | undefined, name: string): Promise<T> => {
      this.check();
      const object = this.objects.get(this.key(resource, name));
      if (object === undefined) throw apiStatusError(404, { reason: 'NotFound', message: `${name} not found` });
      return structuredClone(object) as T;
    },
    list: async () => { throw new Error('not used'); },
    create: async <T>(resource: ResourceRef, _ns: string | undefined, body: unknown): Promise<T> => {
      this.check();
      const name = (body as { metadata: { name: string } }).metadata.name;
      if (this.objects.has(this.key(resource, name))) throw apiStatusError(409, { reason: 'AlreadyExists', message: `${name} exists` });
      this.writes.push(`create ${resource.resource}`);
      return this.store<T>(this.key(resource, name), body);
    },
    update: async <T>(resource: ResourceRef, _ns: string | undefined, name: string, body: unknown): Promise<T> => {
      this.check();
      const current = this.objects.get(this.key(resource, name));
      if (current === undefined) throw apiStatusError(404, { reason: 'NotFound', message: `${name} not found` });
      if ((body as Lease).metadata?.resourceVersion !== current.metadata.resourceVersion) throw apiStatusError(409, { reason: 'Conflict', message: 'stale' });
      this.writes.push(`update ${resource.resource}`);
      return this.store<T>(this.key(resource, name), body);
    },
    patch: async <T>(resource: ResourceRef, _ns: string | undefined, name: string, patch: unknown, _type: unknown, options?: { subresource?: string }): Promise<T> => {
      this.check();
      const current = this.objects.get(this.key(resource, name));
      if (current === undefined) throw apiStatusError(404, { reason: 'NotFound', message: `${name} not found` });
      const p = patch as { metadata?: { labels?: object; annotations?: object }; status?: object };
      const metadata = current.metadata as { labels?: object; annotations?: object };
      const next = {
        ...current,
        metadata: { ...current.metadata, labels: { ...metadata.labels, ...p.metadata?.labels }, annotations: { ...metadata.annotations, ...p.metadata?.annotations } },
        ...(p.status !== undefined ? { status: p.status } : {}),
      };
      this.writes.push(`patch ${resource.resource}${options?.subresource !== undefined ? `/${options.subresource}` : ''}`);
      return this.store<T>(this.key(resource, name), next);
    },
    delete: async () => { throw new Error('not used'); },
    watch: async () => { throw new Error('not used'); },
  };
}

const readings: HostReadings = { memoryTotalBytes: 8 * 2 ** 30, memoryAvailableBytes: 4 * 2 ** 30, diskTotalBytes: 1e11, diskAvailableBytes: 5e10, processes: 300, pidMax: 32768 };

function fakeRuntime(status: () => RuntimeStatus): ContainerRuntime {
  return { name: 'hollow', version: async () => ({ runtimeName: 'hollow', runtimeVersion: '1.0.0' }), status: async () => status() } as unknown as ContainerRuntime;
}

const config: NodeConfig = {
  labels: { tier: 'edge' }, taints: [], systemReserved: {}, maxPods: 110, leaseDurationSeconds: 40,
  leaseRenewIntervalMs: 10_000, statusReportIntervalMs: 300_000, nodeIp: '127.0.0.1', services: defaultServicesConfig('127.0.0.1'),
};

/** Lets the promise-based steps run between timer firings. */
async function advance(clock: SimulatedClock, ms: number, stepMs = 100): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(stepMs);
    for (let i = 0; i < 20; i++) await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('the Node part (startNode)', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  function setUp(api: FakeApi, runtimeStatus: () => RuntimeStatus) {
    const dir = mkdtempSync(join(tmpdir(), 'kubus-node-'));
    dirs.push(dir);
    const clock = new SimulatedClock();
    const ctx = { nodeName: 'w1', cluster: 'c', dir, api: api.client, bus: {} as AgentContext['bus'], clock, wallClock: () => new Date(Date.UTC(2026, 0, 1) + clock.now()), logger: quiet } satisfies AgentContext;
    return { ctx, clock, dir, start: () => startNode(ctx, config, { runtime: fakeRuntime(runtimeStatus), runningPods: () => 0, readHost: () => readings }) };
  }

  it('registers, renews the Lease every interval, writes the full status once and again only on a change', async () => {
    const api = new FakeApi();
    let runtime: RuntimeStatus = { runtimeReady: true, networkReady: true, resourceLimitsEnforced: false, message: null };
    const { clock, start } = setUp(api, () => runtime);
    const node = start();
    await advance(clock, 200);
    await node.registered();
    const stored = api.objects.get('nodes/w1') as unknown as Node;
    expect(stored.metadata?.labels).toMatchObject({ 'kubernetes.io/hostname': 'w1', tier: 'edge' });
    expect(stored.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', message: 'kubelet is posting ready status; resource limits are not enforced on this host (cgroups not writable)' });
    const lease = api.objects.get('leases/w1') as unknown as Lease;
    expect(lease.spec).toMatchObject({ holderIdentity: 'w1', leaseDurationSeconds: 40 });
    expect(lease.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: 'w1' });

    await advance(clock, 60_000);
    const statusWrites = (): number => api.writes.filter((w) => w === 'patch nodes/status').length;
    expect(statusWrites()).toBe(1);
    expect(api.writes.filter((w) => w === 'update leases').length).toBe(6);

    runtime = { ...runtime, runtimeReady: false, message: 'process runtime stopped' };
    await advance(clock, 10_000);
    expect(statusWrites()).toBe(2);
    expect((api.objects.get('nodes/w1') as unknown as Node).status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    await node.stop();
  });

  it('writes the full status again after statusReportIntervalMs with nothing changed', async () => {
    const api = new FakeApi();
    const { clock, start } = setUp(api, () => ({ runtimeReady: true, networkReady: true, resourceLimitsEnforced: true, message: null }));
    const node = start();
    await advance(clock, 300_000 + 10_000, 1_000);
    expect(api.writes.filter((w) => w === 'patch nodes/status').length).toBe(2);
    await node.stop();
  });

  it('retries the Lease sooner while the API is unreachable, and never stops', async () => {
    const api = new FakeApi();
    const { clock, start } = setUp(api, () => ({ runtimeReady: true, networkReady: true, resourceLimitsEnforced: true, message: null }));
    const node = start();
    await advance(clock, 10_500);
    api.down = true;
    await advance(clock, 20_000);
    api.down = false;
    const before = api.writes.filter((w) => w === 'update leases').length;
    // Up to 7 s (the retry cap) later the Lease is renewed again, before the 10 s interval.
    await advance(clock, 7_200);
    expect(api.writes.filter((w) => w === 'update leases').length).toBeGreaterThan(before);
    await node.stop();
  });

  it('registers the Node again when it was deleted while the agent runs (a kubelet does)', async () => {
    const api = new FakeApi();
    const { clock, start } = setUp(api, () => ({ runtimeReady: true, networkReady: true, resourceLimitsEnforced: true, message: null }));
    const node = start();
    await advance(clock, 200);
    await node.registered();
    api.objects.delete('nodes/w1');
    // The next read of the own Node (at most a minute later) finds it gone and registers it again.
    await advance(clock, 75_000, 1_000);
    expect(api.objects.has('nodes/w1')).toBe(true);
    expect(api.writes.filter((w) => w === 'create nodes').length).toBe(2);
    await node.stop();
  });

  it('corrects conditions the control plane set to Unknown while it was away, at the next read of its Node', async () => {
    const api = new FakeApi();
    const { clock, start } = setUp(api, () => ({ runtimeReady: true, networkReady: true, resourceLimitsEnforced: true, message: null }));
    const node = start();
    await advance(clock, 200);
    await node.registered();
    const stored = api.objects.get('nodes/w1') as unknown as Node;
    for (const condition of stored.status?.conditions ?? []) condition.status = 'Unknown';
    await advance(clock, 75_000, 1_000);
    const ready = (api.objects.get('nodes/w1') as unknown as Node).status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.status).toBe('True');
    await node.stop();
  });

  it('takes an existing Node over (our labels, others kept), learns its pod CIDR and keeps it in node.json', async () => {
    const api = new FakeApi();
    api.objects.set('nodes/w1', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'w1', uid: 'old-uid', resourceVersion: '0', labels: { team: 'ops', tier: 'core' } }, spec: {} });
    const { clock, dir, start, ctx } = setUp(api, () => ({ runtimeReady: true, networkReady: true, resourceLimitsEnforced: true, message: null }));
    const node = start();
    await advance(clock, 500);
    await node.registered();
    expect((api.objects.get('nodes/w1') as unknown as Node).metadata?.labels).toMatchObject({ team: 'ops', tier: 'edge', 'kubernetes.io/hostname': 'w1' });
    expect(node.podCidr()).toBeNull();
    const stored = api.objects.get('nodes/w1') as { spec?: { podCIDR?: string } };
    stored.spec = { podCIDR: '127.64.1.0/24' };
    await advance(clock, 10_000);
    expect(node.podCidr()).toBe('127.64.1.0/24');
    expect(JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8'))).toEqual({ nodeName: 'w1', uid: 'old-uid', podCidr: '127.64.1.0/24' });
    await node.stop();

    // Restarted with the API unreachable: registered at once and the CIDR known from the checkpoint.
    api.down = true;
    const again = startNode(ctx, config, { runtime: fakeRuntime(() => ({ runtimeReady: true, networkReady: true, resourceLimitsEnforced: true, message: null })), runningPods: () => 0, readHost: () => readings });
    await again.registered();
    expect(again.podCidr()).toBe('127.64.1.0/24');
    await again.stop();
  });
});
