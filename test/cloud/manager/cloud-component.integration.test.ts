/**
 * `kubus cloud-controller-manager` as a process of its own beside a 3-member cluster whose members
 * run no cloud controller manager, with the `sim` provider (`--cloud-config` file):
 * - an unknown `--cloud-provider` makes it exit non-zero, naming the registered providers;
 * - it takes the Lease kube-system/cloud-controller-manager (its own NATS user, token and RBAC
 *   role), initialises an uninitialised Node (providerID, zone label, taint removed) and gives a
 *   LoadBalancer Service its ingress from the sim pool, with the cleanup finalizer;
 * - on SIGTERM it releases the Lease and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import { refs } from '../../../actors/controllers/runtime/index.js';
import { loadBalancerCleanupFinalizer, uninitializedTaintKey } from '../../../actors/cloud/index.js';
import { startApiHarness, type ApiHarness } from '../../apiserver/harness.js';
import { requireComponent } from '../../support/components.js';
import { adminApi, waitForLeaseHolder } from '../../support/control-plane.js';
import { waitUntil } from '../../support/wait.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const run = requireComponent('nats-server', 'apt-get install nats-server');
const pool = '127.99.7.0/29';

describe.runIf(run)('the cloud controller manager as its own process', () => {
  let h: ApiHarness;
  let dir: string;
  let file: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubus-ccm-'));
    file = join(dir, 'cloud.json');
    writeFileSync(file, JSON.stringify({
      seed: 3, latencyMs: 1, jitterMs: 1, failureRate: 0, loadBalancerPool: pool,
      instances: [{ name: 'ccm-1', zone: 'sim-z', region: 'sim-r', instanceType: 'sim.tiny', state: 'running' }],
    }));
    h = await startApiHarness({});
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await h?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  function start(provider: string): { child: ChildProcess; stderr: () => string } {
    let stderr = '';
    const child = spawn(process.execPath, [
      '--import', 'tsx', join(repoRoot, 'actors/cli/main.ts'), 'cloud-controller-manager',
      '--nats', h.cluster.natsUrl(), '--cluster', h.cluster.cluster, '--credentials-dir', join(h.dir, 'credentials'), '--id', 'standalone-ccm',
      '--cloud-provider', provider, '--cloud-config', file,
      '--leader-elect-lease-duration', '3s', '--leader-elect-renew-deadline', '2s', '--leader-elect-retry-period', '500ms',
    ], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-20_000); });
    children.push(child);
    return { child, stderr: () => stderr };
  }

  const exitOf = (child: ChildProcess): Promise<number | null> => new Promise((done) => {
    if (child.exitCode !== null) done(child.exitCode);
    else child.once('exit', (code) => done(code));
  });

  test('an unknown provider: exits non-zero naming the registered ones', async () => {
    const { child, stderr } = start('nowhere');
    expect(await exitOf(child)).not.toBe(0);
    expect(stderr()).toMatch(/unknown cloud provider "nowhere": registered providers are local, sim/);
  });

  test('takes its Lease, initialises a Node, serves a LoadBalancer Service, releases the Lease on SIGTERM', async () => {
    const api = adminApi(h);
    const node: Node = {
      apiVersion: 'v1', kind: 'Node', metadata: { name: 'ccm-1' },
      spec: { taints: [{ key: uninitializedTaintKey, value: 'true', effect: 'NoSchedule' }] },
      status: { addresses: [{ type: 'InternalIP', address: '127.32.9.1' }], conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: new Date().toISOString() }] },
    };
    await api.create(refs.nodes, undefined, node);
    const { child } = start('sim');
    expect(await waitForLeaseHolder(h, 'cloud-controller-manager', { timeoutMs: 30_000 })).toMatch(/^standalone-ccm_[0-9a-f]{8}$/);
    const initialised = await waitUntil('ccm-1 initialised from its instance', async () => {
      const found = await api.get<Node>(refs.nodes, undefined, 'ccm-1');
      return found.spec?.providerID === 'sim://ccm-1' && !(found.spec.taints ?? []).some((t) => t.key === uninitializedTaintKey) ? found : null;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(initialised.metadata?.labels?.['topology.kubernetes.io/zone']).toBe('sim-z');
    expect(initialised.metadata?.labels?.['node.kubernetes.io/instance-type']).toBe('sim.tiny');

    const service: Service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'edge', namespace: 'default' }, spec: { type: 'LoadBalancer', selector: { app: 'edge' }, ports: [{ port: 80, targetPort: 8080 }] } };
    await api.create(refs.services, 'default', service);
    const served = await waitUntil('edge has an ingress', async () => {
      const found = await api.get<Service>(refs.services, 'default', 'edge');
      return (found.status?.loadBalancer?.ingress ?? []).length > 0 ? found : null;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    expect(served.status?.loadBalancer?.ingress?.[0]?.ip).toMatch(/^127\.99\.7\.[1-6]$/);
    expect(served.metadata?.finalizers).toContain(loadBalancerCleanupFinalizer);

    child.kill('SIGTERM');
    expect(await exitOf(child)).toBe(0);
    await waitUntil('cloud-controller-manager Lease released', async () => {
      const lease = await api.get<Lease>(refs.leases, 'kube-system', 'cloud-controller-manager').catch(() => null);
      return lease?.spec?.holderIdentity === '';
    }, { timeoutMs: 5_000 });
  });
});
