/**
 * The `docker` runtime: the same contract over the Docker Engine API (docker-runtime.ts).
 *
 * dockerode is the adapter's one dependency (STYLE rule 15): it speaks the engine's HTTP API over
 * its unix socket, including the hijacked connections exec and attach need.
 */
import { join } from 'node:path';
import Docker from 'dockerode';
import type { Logger } from '../../../bus/logger.js';
import { RuntimeUnavailableError } from '../errors.js';
import { describeLocalImages, localImageRefs } from '../images/index.js';
import type { RuntimeOptions } from '../options.js';
import type { ContainerRuntime } from '../types.js';
import { DockerRuntime } from './docker-runtime.js';
import { loadImageTars } from './images.js';
import { checkDockerLimits, dockerLimits } from './limits.js';
import { withTimeout, type Engine } from './timeout.js';

export interface DockerRuntimeOptions {
  /** The engine's socket; absent: DOCKER_HOST, else /var/run/docker.sock. */
  readonly socket?: string;
  /** The network pod sandboxes join; absent: the engine's default `bridge` (pods reachable from the host at their addresses). */
  readonly network?: string;
  /** The pause image sandboxes run; absent: kubus's local pause image. */
  readonly sandboxImage?: string;
  /** Prefix of the engine names of sandboxes and containers (tests use their own, to tell theirs apart). */
  readonly namePrefix?: string;
  /**
   * Whether to build kubus's local images (pause, busybox: nodeagent/runtime/images/) and load
   * the ones the engine lacks at open; default true (no registry is needed for sandboxes or the
   * README's examples).
   */
  readonly loadLocalImages?: boolean;
  /** Where the local image tars are cached; absent: `<dir>/runtime/image-cache` (tests share one). */
  readonly imageCacheDir?: string;
}

/** kubus's local pause image. */
export const defaultSandboxImage = localImageRefs.pause;

export { DockerRuntime } from './docker-runtime.js';
export { workingSetBytes } from './stats.js';
export { dockerLabels, ownerOf } from './labels.js';
export { dockerLimits } from './limits.js';

/** Connects to the engine (a bounded ping), loads local images it lacks and adopts what an earlier agent over the same `--dir` runs. */
export async function openDockerRuntime(options: RuntimeOptions): Promise<ContainerRuntime> {
  checkDockerLimits();
  const settings = options.docker ?? {};
  const host = process.env['DOCKER_HOST'];
  const endpoint = settings.socket ?? host ?? '/var/run/docker.sock';
  const docker = settings.socket !== undefined ? new Docker({ socketPath: settings.socket }) : host !== undefined ? new Docker() : new Docker({ socketPath: '/var/run/docker.sock' });
  try {
    await withTimeout(options.clock, docker.ping(), dockerLimits.pingTimeoutMs, endpoint);
  } catch (error) {
    throw new RuntimeUnavailableError('docker', endpoint, `the engine does not answer (${error instanceof Error ? error.message : String(error)}); is dockerd running?`);
  }
  if (settings.loadLocalImages !== false) await prepareLocalImages({ docker, clock: options.clock }, settings.imageCacheDir ?? join(options.dir, 'runtime', 'image-cache'), options.logger);
  const runtime = new DockerRuntime(docker, options, {
    sandboxImage: settings.sandboxImage ?? defaultSandboxImage,
    network: settings.network ?? 'bridge',
    namePrefix: settings.namePrefix ?? 'kubus',
    endpoint,
  });
  await runtime.start();
  return runtime;
}

/**
 * Builds (cached) and loads the local images the engine lacks or holds in another build. A
 * failure is logged, not fatal: pods of other images still run, and a sandbox then fails with
 * ErrImageNeverPull naming the pause image.
 */
async function prepareLocalImages(engine: Engine, cacheDir: string, logger: Logger): Promise<void> {
  try {
    const built = await describeLocalImages(cacheDir);
    await loadImageTars(engine, Object.values(built).map((image) => ({ reference: image.reference, tarPath: image.path, imageId: image.imageId })));
  } catch (error) {
    logger.warn('cannot prepare the local images (pause, busybox); sandboxes need the pause image', { cacheDir, error: String(error) });
  }
}
