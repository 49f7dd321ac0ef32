/**
 * Tearing a private containerd down (tests, `kubus down`): its pods removed through CRI (that
 * releases their network namespaces, addresses and shims), the daemon stopped by its pid, its
 * bridge deleted. The agent itself never calls this: pods outlive agent restarts.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CriClient } from './client.js';
import { cniNetworkName, containerdLayout } from './containerd-config.js';
import { criLimits } from './limits.js';
import { criNamespace } from './image-import.js';
import { containerdBinary, livePrivateContainerd } from './private-containerd.js';

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

/** Tasks (pods' shims) containerd left in its state directory: pods that may still run without their containerd. */
function hasTasks(state: string): boolean {
  try {
    return readdirSync(join(state, 'io.containerd.runtime.v2.task', criNamespace)).length > 0;
  } catch {
    return false;
  }
}

/** Starts the directory's containerd again from its written config (it died, its pods did not) and waits for its socket, bounded. */
async function restartForRemoval(agentDirectory: string): Promise<number | null> {
  const layout = containerdLayout(agentDirectory);
  const log = openSync(layout.logFile, 'a');
  const child = spawn(containerdBinary, ['--config', layout.configFile], { detached: true, stdio: ['ignore', log, log], cwd: layout.directory });
  closeSync(log);
  if (child.pid === undefined) return null;
  child.unref();
  writeFileSync(layout.pidFile, `${child.pid}\n`);
  // The dead daemon's socket file may still be there: wait for an answer, not for the file.
  const client = new CriClient(layout.socket);
  try {
    const end = Date.now() + criLimits.openWaitMs;
    while (Date.now() < end) {
      if (await client.call('Status', { verbose: false }, criLimits.openPollMs * 10).then(() => true, () => false)) break;
      await delay(criLimits.openPollMs);
    }
  } finally {
    client.close();
  }
  return livePrivateContainerd(layout);
}

/**
 * Stops the private containerd of `agentDirectory` (if running), removing its pods first when
 * asked (starting a dead containerd again for that when its pods' shims may still run); deletes
 * its bridge.
 */
export async function stopPrivateContainerd(agentDirectory: string, options: { readonly removePods: boolean }): Promise<void> {
  const layout = containerdLayout(agentDirectory);
  let pid = livePrivateContainerd(layout);
  if (pid === null && options.removePods && existsSync(layout.configFile) && hasTasks(layout.state)) pid = await restartForRemoval(agentDirectory);
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
