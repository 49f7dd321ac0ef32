/**
 * Our runtime contract → CRI v1 request messages (pure). Kubernetes' own conversions (kuberuntime)
 * are the model: CPU shares from the request, CFS quota from the limit over a 100 ms period, the
 * log path relative to the sandbox's log directory (containerd joins them and writes the file).
 */
import { relative, isAbsolute } from 'node:path';
import { runtimeLabels, type ContainerConfig, type ContainerResources, type PodSandboxConfig } from '../types.js';
import type { Labels, WireContainerConfig, WireLinuxResources, WirePodSandboxConfig } from './wire.js';
import { containerIdentityLabels } from '../identity-labels.js';

/** The label every sandbox and container of one agent carries, so a shared containerd's other users are never adopted. */
export const agentLabel = 'io.kubus.agent';

/** CFS period Kubernetes uses (100 ms). */
export const cpuPeriodMicros = 100_000;
/** Kubernetes' minimum CPU shares (the kernel's minimum is 2). */
const cpuSharesMin = 2;

export function linuxResources(resources: ContainerResources | undefined): WireLinuxResources {
  const wire: WireLinuxResources = {};
  if (resources?.cpuRequestMillis !== undefined) wire.cpuShares = Math.max(cpuSharesMin, Math.floor((resources.cpuRequestMillis * 1024) / 1000));
  if (resources?.cpuLimitMillis !== undefined) {
    wire.cpuPeriod = cpuPeriodMicros;
    // Kubernetes' minimum quota is 1 ms.
    wire.cpuQuota = Math.max(1000, Math.floor((resources.cpuLimitMillis * cpuPeriodMicros) / 1000));
  }
  if (resources?.memoryLimitBytes !== undefined) wire.memoryLimitInBytes = resources.memoryLimitBytes;
  return wire;
}

export function sandboxLabels(config: PodSandboxConfig, agent: string): Labels {
  return {
    ...config.labels,
    [runtimeLabels.podUid]: config.uid,
    [runtimeLabels.podName]: config.name,
    [runtimeLabels.podNamespace]: config.namespace,
    [agentLabel]: agent,
  };
}

export function sandboxRequest(config: PodSandboxConfig, agent: string): WirePodSandboxConfig {
  return {
    metadata: { name: config.name, uid: config.uid, namespace: config.namespace, attempt: config.attempt },
    hostname: config.hostNetwork ? '' : config.hostname,
    logDirectory: config.logDirectory,
    ...(config.dns ? { dnsConfig: { servers: [...config.dns.servers], searches: [...config.dns.searches], options: [...config.dns.options] } } : {}),
    portMappings: config.portMappings.map((p) => ({ protocol: p.protocol, containerPort: p.containerPort, hostPort: p.hostPort ?? 0, hostIp: p.hostIp ?? '' })),
    labels: sandboxLabels(config, agent),
    annotations: { ...config.annotations },
    linux: {
      cgroupParent: config.cgroupParent ?? '',
      securityContext: { namespaceOptions: { network: config.hostNetwork ? 'NODE' : 'POD', pid: 'CONTAINER', ipc: 'POD' } },
      ...(config.resources ? { resources: linuxResources(config.resources) } : {}),
    },
  };
}

/** containerd writes `<log_directory>/<log_path>`: our absolute logPath, made relative to the sandbox's directory. */
export function relativeLogPath(logDirectory: string, logPath: string): string {
  return isAbsolute(logPath) ? relative(logDirectory, logPath) : logPath;
}

export function containerRequest(config: ContainerConfig, sandbox: PodSandboxConfig, agent: string): WireContainerConfig {
  const security = config.securityContext;
  return {
    metadata: { name: config.name, attempt: config.attempt },
    image: { image: config.image },
    command: [...config.command],
    args: [...config.args],
    workingDir: config.workingDir ?? '',
    envs: config.env.map((e) => ({ key: e.name, value: e.value })),
    mounts: config.mounts.map((m) => ({ containerPath: m.containerPath, hostPath: m.hostPath, readonly: m.readOnly })),
    labels: {
      ...containerIdentityLabels(sandbox, config),
      [agentLabel]: agent,
    },
    annotations: {},
    logPath: relativeLogPath(sandbox.logDirectory, config.logPath),
    stdin: config.stdin ?? false,
    // Kubernetes' default for stdin containers without stdinOnce: the stdin stays open across attaches.
    stdinOnce: false,
    tty: config.tty ?? false,
    linux: {
      resources: linuxResources(config.resources),
      securityContext: {
        privileged: security?.privileged ?? false,
        namespaceOptions: { network: sandbox.hostNetwork ? 'NODE' : 'POD', pid: 'CONTAINER', ipc: 'POD' },
        ...(security?.runAsUser !== undefined ? { runAsUser: { value: security.runAsUser } } : {}),
        ...(security?.runAsGroup !== undefined ? { runAsGroup: { value: security.runAsGroup } } : {}),
        readonlyRootfs: security?.readOnlyRootFilesystem ?? false,
      },
    },
  };
}
