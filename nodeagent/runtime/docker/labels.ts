/**
 * The labels the docker runtime puts on what it creates, beside the shared `runtimeLabels`.
 *
 * Decision: everything the runtime needs to know about a sandbox or container lives in the
 * engine, as labels, so the runtime keeps no files: a restarted agent lists by `owner` and adopts.
 * `owner` is a hash of the agent's `--dir`, so two agents on one engine (a test cluster, `kubus
 * up` with two agents) never see, adopt or garbage-collect each other's pods.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

export const dockerLabels = {
  /** Which agent made it (ownerOf). */
  owner: 'io.kubus.docker.owner',
  /** `sandbox` or `container`. */
  kind: 'io.kubus.docker.kind',
  /** A container's sandbox (the sandbox container's id). */
  sandbox: 'io.kubus.docker.sandbox',
  /** Where the container's CRI log is written (the agent reads it). */
  logPath: 'io.kubus.docker.log-path',
  /** `true` on a hostNetwork sandbox (its address is the node's). */
  hostNetwork: 'io.kubus.docker.host-network',
  /** The image as the pod named it (the engine reports the resolved id). */
  image: 'io.kubus.docker.image',
} as const;

export type DockerKind = 'sandbox' | 'container';

/** The owner label's value for an agent directory. */
export function ownerOf(agentDir: string): string {
  return createHash('sha256').update(resolve(agentDir)).digest('hex').slice(0, 16);
}

/** Engine list filter for this owner's sandboxes or containers. */
export function ownerFilter(owner: string, kind: DockerKind, extra: readonly string[] = []): { label: string[] } {
  return { label: [`${dockerLabels.owner}=${owner}`, `${dockerLabels.kind}=${kind}`, ...extra] };
}
