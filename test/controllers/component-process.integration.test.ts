/**
 * `kubus controller-manager` and `kubus scheduler` as processes of their own, next to members
 * started with --no-controller-manager / --no-scheduler: each takes its Lease (as its own NATS
 * user and API token), and on SIGTERM releases it (holderIdentity cleared) before exiting 0, so a
 * successor need not wait out the lease duration.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { startApiHarness, type ApiHarness } from '../apiserver/harness.js';
import { requireComponent } from '../support/components.js';
import { adminApi, waitForLeaseHolder } from '../support/control-plane.js';
import { waitUntil } from '../support/wait.js';
import { refs } from '../../actors/controllers/runtime/index.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const run = requireComponent('nats-server', 'apt-get install nats-server');

describe.runIf(run)('control-plane components as separate processes', () => {
  let h: ApiHarness;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    h = await startApiHarness({ serverArgs: ['--no-scheduler', '--no-controller-manager'] });
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await h?.stop();
  });

  function start(command: 'controller-manager' | 'scheduler'): ChildProcess {
    const child = spawn(process.execPath, [
      '--import', 'tsx', join(repoRoot, 'actors/cli/main.ts'), command,
      '--nats', h.cluster.natsUrl(), '--cluster', h.cluster.cluster, '--credentials-dir', join(h.dir, 'credentials'), '--id', `standalone-${command}`,
      '--leader-elect-lease-duration', '3s', '--leader-elect-renew-deadline', '2s', '--leader-elect-retry-period', '500ms',
    ], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'ignore'] });
    children.push(child);
    return child;
  }

  test('no member holds the Leases; the separate processes take them and release them on SIGTERM', async () => {
    const api = adminApi(h);
    const lease = (name: string) => api.get<Lease>(refs.leases, 'kube-system', name).catch(() => null);
    expect(await lease('kube-controller-manager')).toBeNull();
    expect(await lease('kube-scheduler')).toBeNull();
    const manager = start('controller-manager');
    const scheduler = start('scheduler');
    expect(await waitForLeaseHolder(h, 'kube-controller-manager', { timeoutMs: 30_000 })).toMatch(/^standalone-controller-manager_[0-9a-f]{8}$/);
    expect(await waitForLeaseHolder(h, 'kube-scheduler', { timeoutMs: 30_000 })).toMatch(/^standalone-scheduler_[0-9a-f]{8}$/);
    const exits = [manager, scheduler].map((child) => new Promise<number | null>((done) => child.once('exit', (code) => done(code))));
    manager.kill('SIGTERM');
    scheduler.kill('SIGTERM');
    expect(await Promise.all(exits)).toEqual([0, 0]);
    for (const name of ['kube-controller-manager', 'kube-scheduler']) {
      await waitUntil(`${name} released`, async () => (await lease(name))?.spec?.holderIdentity === '', { timeoutMs: 5_000 });
    }
  });
});
