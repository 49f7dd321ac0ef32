/**
 * The `docker` runtime: the same contract over the Docker Engine API (docker-runtime.ts).
 *
 * dockerode is the adapter's one dependency (STYLE rule 15): it speaks the engine's HTTP API over
 * its unix socket, including the hijacked connections exec and attach need.
 */
import Docker from 'dockerode';
import { RuntimeUnavailableError } from '../errors.js';
import type { RuntimeOptions } from '../options.js';
import type { ContainerRuntime } from '../types.js';
import { DockerRuntime } from './docker-runtime.js';
import { loadImageTars } from './images.js';
import { checkDockerLimits, dockerLimits } from './limits.js';
import { withTimeout } from './timeout.js';

export interface DockerRuntimeOptions {
  /** The engine's socket; absent: DOCKER_HOST, else /var/run/docker.sock. */
  readonly socket?: string;
  /** The network pod sandboxes join; absent: the engine's default `bridge` (pods reachable from the host at their addresses). */
  readonly network?: string;
  /** The pause image sandboxes run; absent: kubus's local pause image. */
  readonly sandboxImage?: string;
  /** Prefix of the engine names of sandboxes and containers (tests use their own, to tell theirs apart). */
  readonly namePrefix?: string;
  /** Local image tars (docker-archive) loaded at open when the engine lacks them: the pause image, the busybox image. */
  readonly localImages?: readonly { readonly reference: string; readonly tarPath: string }[];
}

/** kubus's local pause image (nodeagent/runtime/images/ builds it). */
export const defaultSandboxImage = 'kubus.local/pause:3.10';

export { DockerRuntime, workingSetBytes } from './docker-runtime.js';
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
    await withTimeout(docker.ping(), dockerLimits.pingTimeoutMs, endpoint);
  } catch (error) {
    throw new RuntimeUnavailableError('docker', endpoint, `the engine does not answer (${error instanceof Error ? error.message : String(error)}); is dockerd running?`);
  }
  if (settings.localImages !== undefined) await loadImageTars(docker, settings.localImages);
  const runtime = new DockerRuntime(docker, options, {
    sandboxImage: settings.sandboxImage ?? defaultSandboxImage,
    network: settings.network ?? 'bridge',
    namePrefix: settings.namePrefix ?? 'kubus',
    endpoint,
  });
  await runtime.start();
  return runtime;
}
