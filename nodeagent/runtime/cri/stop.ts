/**
 * Tearing a private containerd down (tests, `kubus down`): its pods removed through CRI (that
 * releases their network namespaces, addresses and shims), the daemon stopped by its pid, its
 * bridge deleted. The agent itself never calls this: pods outlive agent restarts.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CriClient } from './client.js';
import { cniNetworkName, containerdLayout } from './containerd-config.js';
import { criLimits } from './limits.js';
import { livePrivateContainerd } from './private-containerd.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitExit(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!alive(pid)) return true;
    await delay(criLimits.openPollMs);
  }
  return !alive(pid);
}

async function removeAllPods(socket: string): Promise<void> {
  const client = new CriClient(socket);
  try {
    const { items } = await client.call('ListPodSandbox', {});
    for (const sandbox of items) {
      await client.call('StopPodSandbox', { podSandboxId: sandbox.id }, criLimits.sandboxDeadlineMs).catch(() => undefined);
      await client.call('RemovePodSandbox', { podSandboxId: sandbox.id }, criLimits.sandboxDeadlineMs).catch(() => undefined);
    }
  } finally {
    client.close();
  }
}

/** Stops the private containerd of `agentDirectory` (if running), removing its pods first when asked; deletes its bridge. */
export async function stopPrivateContainerd(agentDirectory: string, options: { readonly removePods: boolean }): Promise<void> {
  const layout = containerdLayout(agentDirectory);
  const pid = livePrivateContainerd(layout);
  if (pid !== null) {
    if (options.removePods) await removeAllPods(layout.socket).catch(() => undefined);
    process.kill(pid, 'SIGTERM');
    if (!(await waitExit(pid, criLimits.daemonStopMs))) {
      process.kill(pid, 'SIGKILL');
      await waitExit(pid, criLimits.daemonStopMs);
    }
  }
  if (options.removePods) {
    await new Promise<void>((resolve) => execFile('ip', ['link', 'delete', cniNetworkName(agentDirectory)], () => resolve()));
    if (!layout.socket.startsWith(layout.directory)) rmSync(dirname(layout.socket), { recursive: true, force: true });
  }
}
