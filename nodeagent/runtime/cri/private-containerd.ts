/**
 * The agent's private containerd (`--runtime cri` without `--cri-socket`): its own config, root,
 * state, socket and CNI network under `<dir>/runtime/containerd`, started detached so it (and the
 * pods) outlive the agent; a restarted agent finds it by its pid file and reuses it.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { Logger } from '../../../bus/logger.js';
import { cniConflist, cniNetworkName, containerdConfigToml, containerdLayout, defaultPodSubnet, type ContainerdLayout } from './containerd-config.js';
import { ContainerdStartError } from './errors.js';

export const containerdBinary = '/usr/bin/containerd';
export const cniBinDirectory = '/usr/lib/cni';

export interface PrivateContainerd {
  readonly layout: ContainerdLayout;
  readonly pid: number;
  /** False when a live one from an earlier agent life was reused. */
  readonly started: boolean;
  readonly subnet: string;
}

/** The pid in the pid file when that process is alive and is this directory's containerd. */
export function livePrivateContainerd(layout: ContainerdLayout): number | null {
  if (!existsSync(layout.pidFile)) return null;
  const pid = Number.parseInt(readFileSync(layout.pidFile, 'utf8').trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(layout.configFile) ? pid : null;
  } catch {
    return null;
  }
}

/** A free loopback port for the streaming server (containerd writes a configured `0` into its URLs). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function ensurePrivateContainerd(options: {
  readonly agentDirectory: string;
  readonly podSubnet?: string;
  readonly sandboxImage: string;
  readonly logger: Logger;
}): Promise<PrivateContainerd> {
  const layout = containerdLayout(options.agentDirectory);
  const subnet = options.podSubnet ?? defaultPodSubnet(options.agentDirectory);
  const live = livePrivateContainerd(layout);
  if (live !== null) {
    options.logger.info('reusing the running private containerd', { pid: live, socket: layout.socket });
    return { layout, pid: live, started: false, subnet };
  }
  if (!existsSync(containerdBinary)) throw new ContainerdStartError(layout.directory, layout.logFile, `${containerdBinary} is missing (apt-get install containerd)`);
  mkdirSync(layout.cniConfDirectory, { recursive: true });
  mkdirSync(dirname(layout.socket), { recursive: true });
  mkdirSync(layout.cniIpamDirectory, { recursive: true });
  const streamPort = await freeLoopbackPort();
  writeFileSync(layout.configFile, containerdConfigToml({ layout, sandboxImage: options.sandboxImage, streamPort, cniBinDirectory }));
  writeFileSync(join(layout.cniConfDirectory, '10-kubus.conflist'), cniConflist({ networkName: cniNetworkName(options.agentDirectory), subnet, ipamDirectory: layout.cniIpamDirectory }));
  const log = openSync(layout.logFile, 'a');
  try {
    // Detached in its own session: the agent's exit (or a signal to its process group) leaves it and its pods running.
    const child = spawn(containerdBinary, ['--config', layout.configFile], {
      detached: true,
      stdio: ['ignore', log, log],
      cwd: layout.directory,
      env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    if (child.pid === undefined) throw new ContainerdStartError(layout.directory, layout.logFile, 'spawn returned no pid');
    child.unref();
    writeFileSync(layout.pidFile, `${child.pid}\n`);
    options.logger.info('started a private containerd', { pid: child.pid, socket: layout.socket, subnet });
    return { layout, pid: child.pid, started: true, subnet };
  } finally {
    closeSync(log);
  }
}
