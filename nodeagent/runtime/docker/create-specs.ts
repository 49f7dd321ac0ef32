/**
 * What the engine is asked to create, as pure functions of the CRI-shaped configs (unit-tested
 * without an engine).
 *
 * - The sandbox is a pause container: it holds the pod's network namespace (the configured
 *   network, or the node's for hostNetwork), hostname, resolver settings and hostPort bindings.
 * - A container joins the sandbox's network and IPC namespaces (`container:<sandbox>`; the engine
 *   then shares the sandbox's hostname, /etc/hosts and resolv.conf). `Init: true` puts a tiny
 *   init as PID 1 that forwards signals and reaps, so a shell command stops on SIGTERM at once
 *   instead of after the whole grace period (RUNTIMES.md).
 * - Kubernetes' command/args: `command` replaces the image's ENTRYPOINT (and then its CMD is not
 *   used), `args` replace its CMD; neither set: the image's own.
 * - Resources as the kubelet maps them: shares = request × 1024 / 1000 (at least 2), CFS quota =
 *   limit × period / 1000 over a 100 ms period, memory limit with swap equal to it (no swap).
 */
import { isIP } from 'node:net';
import type { ContainerCreateOptions } from 'dockerode';
import { runtimeLabels, type ContainerConfig, type ContainerResources, type PodSandboxConfig } from '../types.js';
import { dockerLabels } from './labels.js';
import { containerIdentityLabels } from '../identity-labels.js';

export interface SandboxSpecOptions {
  readonly owner: string;
  readonly image: string;
  readonly network: string;
  readonly namePrefix: string;
  /** A few random characters: a name may not be reused while an old sandbox of the same attempt lingers. */
  readonly nameSuffix: string;
}

const cfsPeriodMicros = 100_000;
const minimumShares = 2;

export function sandboxName(config: PodSandboxConfig, options: Pick<SandboxSpecOptions, 'namePrefix' | 'nameSuffix'>): string {
  return safeName(`${options.namePrefix}_POD_${config.name}_${config.namespace}_${config.uid.slice(0, 8)}_${config.attempt}_${options.nameSuffix}`);
}

export function containerName(config: ContainerConfig, sandbox: PodSandboxConfig, options: Pick<SandboxSpecOptions, 'namePrefix' | 'nameSuffix'>): string {
  return safeName(`${options.namePrefix}_${config.name}_${sandbox.name}_${sandbox.namespace}_${sandbox.uid.slice(0, 8)}_${config.attempt}_${options.nameSuffix}`);
}

export function sandboxSpec(config: PodSandboxConfig, options: SandboxSpecOptions): ContainerCreateOptions {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  if (!config.hostNetwork) {
    for (const port of config.portMappings) {
      if (port.hostPort === undefined || port.hostPort === 0 || port.protocol === 'SCTP') continue;
      const key = `${port.containerPort}/${port.protocol.toLowerCase()}`;
      exposed[key] = {};
      (bindings[key] ??= []).push({ HostIp: port.hostIp ?? '', HostPort: String(port.hostPort) });
    }
  }
  return {
    name: sandboxName(config, options),
    Image: options.image,
    // A host-network sandbox keeps the node's hostname, as the kubelet does.
    ...(config.hostNetwork ? {} : { Hostname: config.hostname }),
    Labels: {
      ...config.labels,
      // The contract's labels, whatever the caller passed: adoption finds pods by them.
      [runtimeLabels.podUid]: config.uid,
      [runtimeLabels.podName]: config.name,
      [runtimeLabels.podNamespace]: config.namespace,
      [dockerLabels.owner]: options.owner,
      [dockerLabels.kind]: 'sandbox',
      [dockerLabels.hostNetwork]: String(config.hostNetwork),
    },
    ExposedPorts: exposed,
    HostConfig: {
      NetworkMode: config.hostNetwork ? 'host' : options.network,
      PortBindings: bindings,
      IpcMode: 'shareable',
      Init: true,
      ...dnsSpec(config),
      ...(config.cgroupParent === undefined ? {} : { CgroupParent: config.cgroupParent }),
    },
  };
}

export interface ContainerSpecOptions extends Pick<SandboxSpecOptions, 'owner' | 'namePrefix' | 'nameSuffix'> {
  readonly sandboxId: string;
}

export function containerSpec(config: ContainerConfig, sandbox: PodSandboxConfig, options: ContainerSpecOptions): ContainerCreateOptions {
  const security = config.securityContext;
  const user = security?.runAsUser === undefined ? undefined : security.runAsGroup === undefined ? String(security.runAsUser) : `${security.runAsUser}:${security.runAsGroup}`;
  return {
    name: containerName(config, sandbox, options),
    Image: config.image,
    ...entrypointAndCmd(config.command, config.args),
    Env: config.env.map((variable) => `${variable.name}=${variable.value}`),
    ...(config.workingDir === undefined || config.workingDir === '' ? {} : { WorkingDir: config.workingDir }),
    ...(user === undefined ? {} : { User: user }),
    OpenStdin: config.stdin === true,
    Tty: config.tty === true,
    Labels: {
      ...containerIdentityLabels(sandbox, config),
      [dockerLabels.owner]: options.owner,
      [dockerLabels.kind]: 'container',
      [dockerLabels.sandbox]: options.sandboxId,
      [dockerLabels.logPath]: config.logPath,
      [dockerLabels.image]: config.image,
    },
    HostConfig: {
      NetworkMode: `container:${options.sandboxId}`,
      IpcMode: `container:${options.sandboxId}`,
      Init: true,
      Binds: config.mounts.map((mount) => `${mount.hostPath}:${mount.containerPath}${mount.readOnly ? ':ro' : ''}`),
      ReadonlyRootfs: security?.readOnlyRootFilesystem === true,
      Privileged: security?.privileged === true,
      // The engine's own logs are only a source for the CRI file; keep them small.
      LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '2' } },
      ...resourceSpec(config.resources),
      ...(sandbox.cgroupParent === undefined ? {} : { CgroupParent: sandbox.cgroupParent }),
    },
  };
}

/**
 * The sandbox's resolver settings. The engine takes plain addresses only, so a server written
 * `ip:port` (a cluster DNS off port 53, pod-dns.ts) is left out, and so is a loopback server for
 * a sandbox with its own network namespace (there, 127.x is the pod's own loopback, not the
 * node's). With no server left the engine's default applies (the host's non-loopback servers).
 */
export function dnsSpec(config: Pick<PodSandboxConfig, 'dns' | 'hostNetwork'>): { Dns?: string[]; DnsSearch?: string[]; DnsOptions?: string[] } {
  if (config.dns === undefined) return {};
  const servers = config.dns.servers.filter((server) => isIP(server) !== 0 && (config.hostNetwork || !isLoopback(server)));
  return {
    ...(servers.length === 0 ? {} : { Dns: servers }),
    DnsSearch: [...config.dns.searches],
    DnsOptions: [...config.dns.options],
  };
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/** Kubernetes' command/args over the image's ENTRYPOINT/CMD. */
export function entrypointAndCmd(command: readonly string[], args: readonly string[]): { Entrypoint?: string[]; Cmd?: string[] } {
  if (command.length > 0) return { Entrypoint: [...command], Cmd: [...args] };
  if (args.length > 0) return { Cmd: [...args] };
  return {};
}

export function resourceSpec(resources: ContainerResources): { CpuShares?: number; CpuPeriod?: number; CpuQuota?: number; Memory?: number; MemorySwap?: number } {
  return {
    ...(resources.cpuRequestMillis === undefined ? {} : { CpuShares: Math.max(minimumShares, Math.floor((resources.cpuRequestMillis * 1024) / 1000)) }),
    ...(resources.cpuLimitMillis === undefined ? {} : { CpuPeriod: cfsPeriodMicros, CpuQuota: Math.max(1000, Math.floor((resources.cpuLimitMillis * cfsPeriodMicros) / 1000)) }),
    ...(resources.memoryLimitBytes === undefined ? {} : { Memory: resources.memoryLimitBytes, MemorySwap: resources.memoryLimitBytes }),
  };
}

/** Engine names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]*`. */
function safeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_.-]/g, '-').replace(/^[^a-zA-Z0-9]+/, '');
}
