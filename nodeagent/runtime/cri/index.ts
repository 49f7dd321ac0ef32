/**
 * The `cri` runtime: containerd (or CRI-O) over the CRI v1 gRPC API on its unix socket, or a
 * private containerd the agent starts under `<dir>/runtime/containerd` (RUNTIMES.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RuntimeUnavailableError } from '../errors.js';
import { localImageRefs } from '../images/index.js';
import type { RuntimeOptions } from '../options.js';
import type { ContainerRuntime } from '../types.js';
import { CriClient } from './client.js';
import { nodeHash } from './containerd-config.js';
import { CriRuntime } from './cri-runtime.js';
import { importLocalImage, importLocalImages } from './image-import.js';
import { checkCriLimits, criLimits } from './limits.js';
import { ensurePrivateContainerd, livePrivateContainerd } from './private-containerd.js';
import { runcStateRoot } from './runc-exec.js';

export interface CriRuntimeOptions {
  /** The CRI socket of a running containerd; absent: the agent starts a private containerd under `<dir>/runtime/containerd`. */
  readonly socket?: string;
  /** The pod network's subnet for the private containerd's CNI bridge (absent: a /24 of 10.88.0.0/16 derived from the agent's directory). */
  readonly podSubnet?: string;
  /** Where the local images' tars are built (absent: `<dir>/runtime/image-cache`, as the docker runtime's); tests share one to build once. */
  readonly imageCacheDir?: string;
}

export { CriRuntime } from './cri-runtime.js';
export { CriCallError, ContainerdStartError, ImageImportError, ImageInUseError } from './errors.js';
export { criLimits, checkCriLimits } from './limits.js';
export { containerdLayout, defaultPodSubnet, cniNetworkName, nodeHash, type ContainerdLayout } from './containerd-config.js';
export { livePrivateContainerd } from './private-containerd.js';
export { stopPrivateContainerd } from './stop.js';

/** The last lines of a private containerd's log: why it did not come up, for the error the user reads. */
function logTail(logFile: string): string {
  try {
    const lines = readFileSync(logFile, 'utf8').trimEnd().split('\n');
    return lines.slice(-criLimits.logTailLines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Waits (bounded) until the socket answers Version and Status; the last error otherwise. `daemon`:
 * a private containerd we started, whose early death ends the wait at once with its log's tail.
 */
async function waitReady(client: CriClient, options: RuntimeOptions, daemon: { readonly alive: () => boolean; readonly logFile: string } | null): Promise<void> {
  const deadline = options.clock.now() + criLimits.openWaitMs;
  let last = 'no answer';
  for (;;) {
    if (daemon !== null && !daemon.alive()) {
      throw new RuntimeUnavailableError('cri', client.socket, `the private containerd exited; its log (${daemon.logFile}) ends with:\n${logTail(daemon.logFile)}`);
    }
    try {
      await client.call('Version', { version: 'v1' }, criLimits.openPollMs * 10);
      await client.call('Status', { verbose: false }, criLimits.openPollMs * 10);
      return;
    } catch (error) {
      last = (error as Error).message;
    }
    if (options.clock.now() >= deadline) {
      const tail = daemon !== null ? `; its log (${daemon.logFile}) ends with:\n${logTail(daemon.logFile)}` : '';
      throw new RuntimeUnavailableError('cri', client.socket, `no answer to Version/Status within ${criLimits.openWaitMs} ms: ${last}${tail}`);
    }
    await new Promise<void>((resolve) => options.clock.setTimeout(resolve, criLimits.openPollMs));
  }
}

export async function openCriRuntime(options: RuntimeOptions): Promise<ContainerRuntime> {
  checkCriLimits();
  const settings = options.cri ?? {};
  let socket = settings.socket;
  // containerd's default runc root for a host containerd; our own for a private one.
  let runcRoot = '/run/containerd/runc';
  let daemonWatch: { readonly alive: () => boolean; readonly logFile: string } | null = null;
  const ensureDaemon = () => ensurePrivateContainerd({
    agentDirectory: options.dir,
    ...(settings.podSubnet !== undefined ? { podSubnet: settings.podSubnet } : {}),
    sandboxImage: localImageRefs.pause,
    logger: options.logger,
  });
  if (socket === undefined) {
    const daemon = await ensureDaemon().catch((error: unknown) => {
      throw new RuntimeUnavailableError('cri', join(options.dir, 'runtime', 'containerd'), (error as Error).message);
    });
    socket = daemon.layout.socket;
    runcRoot = daemon.layout.runcRoot;
    const { layout } = daemon;
    daemonWatch = { alive: () => livePrivateContainerd(layout) !== null, logFile: layout.logFile };
  }
  const client = new CriClient(socket);
  const cacheDirectory = settings.imageCacheDir ?? join(options.dir, 'runtime', 'image-cache');
  const criSocket = socket;
  try {
    await waitReady(client, options, daemonWatch);
    await importLocalImages({
      client,
      socket,
      cacheDirectory,
      // A private containerd's sandboxes need our pause image; a host containerd has its own sandbox_image.
      required: settings.socket === undefined ? ['pause'] : [],
      logger: options.logger,
    });
  } catch (error) {
    client.close();
    if (error instanceof RuntimeUnavailableError) throw error;
    throw new RuntimeUnavailableError('cri', socket, (error as Error).message);
  }
  // Checked at each exec: the state root appears with the first container of the namespace.
  return new CriRuntime({
    client, options, agent: nodeHash(options.dir), runcStateRoot: () => runcStateRoot(runcRoot),
    importLocalImage: (name) => importLocalImage(name, criSocket, cacheDirectory),
    pinnedImages: settings.socket === undefined ? [localImageRefs.pause] : [],
    ...(settings.socket === undefined ? { revive: async () => void (await ensureDaemon()) } : {}),
  });
}
