/**
 * The `docker` runtime: the same contract over the Docker Engine API.
 * (Stub: filled in by issue 13's Docker work.)
 */
import { RuntimeUnavailableError } from '../errors.js';
import type { RuntimeOptions } from '../options.js';
import type { ContainerRuntime } from '../types.js';

export interface DockerRuntimeOptions {
  /** The engine's socket; absent: DOCKER_HOST, else /var/run/docker.sock. */
  readonly socket?: string;
}

export async function openDockerRuntime(options: RuntimeOptions): Promise<ContainerRuntime> {
  throw new RuntimeUnavailableError('docker', options.docker?.socket ?? '/var/run/docker.sock', 'not built yet');
}
