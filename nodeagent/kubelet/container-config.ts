/**
 * The runtime's ContainerConfig for one container of a pod: command and args as Kubernetes
 * resolves them (with `$(VAR)` expansion from the container's environment), resources in the
 * runtime's units, mounts from the pod's volumes, the log path of this attempt, and the labels a
 * restarted agent finds its containers by.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity } from '../../actors/objects/index.js';
import { podDnsConfig, type PodDnsSettings } from '../dns/index.js';
import type { PodVolumes } from '../agent-context.js';
import { containerLogPath, podDirectory as podLogDirectory } from '../log-paths.js';
import { runtimeLabels, type ContainerConfig, type ContainerResources, type ContainerSecurity, type PodSandboxConfig } from '../runtime/types.js';

export type EnvVar = { readonly name: string; readonly value: string };

/**
 * Kubernetes' `$(VAR)` expansion (third_party/forked/golang/expansion): `$(NAME)` becomes the
 * variable's value when it is defined and stays as written otherwise; `$$` is an escaped `$`.
 */
export function expandVariables(text: string, env: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char !== '$' || i + 1 >= text.length) {
      out += char;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = text.indexOf(')', i + 2);
      if (close < 0) {
        out += text.slice(i);
        break;
      }
      const name = text.slice(i + 2, close);
      out += env.get(name) ?? `$(${name})`;
      i = close;
    } else {
      out += '$';
    }
  }
  return out;
}

/** Limits and requests in the runtime's units (millicores, bytes). */
export function containerResources(container: Pick<Container, 'resources'>): ContainerResources {
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const cpuLimit = parseQuantity(limits['cpu']);
  const cpuRequest = parseQuantity(requests['cpu'] ?? limits['cpu']);
  const memoryLimit = parseQuantity(limits['memory']);
  return {
    ...(cpuLimit !== undefined ? { cpuLimitMillis: Math.round(cpuLimit * 1000) } : {}),
    ...(cpuRequest !== undefined ? { cpuRequestMillis: Math.round(cpuRequest * 1000) } : {}),
    ...(memoryLimit !== undefined ? { memoryLimitBytes: Math.round(memoryLimit) } : {}),
  };
}

export function sandboxLabels(pod: Pod): Record<string, string> {
  return {
    ...(pod.metadata?.labels ?? {}),
    [runtimeLabels.podUid]: pod.metadata?.uid ?? '',
    [runtimeLabels.podName]: pod.metadata?.name ?? '',
    [runtimeLabels.podNamespace]: pod.metadata?.namespace ?? 'default',
  };
}

export interface ContainerConfigInput {
  readonly agentDir: string;
  readonly pod: Pod;
  readonly container: Container;
  readonly attempt: number;
  readonly env: readonly EnvVar[];
  readonly volumes: PodVolumes;
}

export function containerConfig(input: ContainerConfigInput): ContainerConfig {
  const { pod, container, attempt } = input;
  const namespace = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const uid = pod.metadata?.uid ?? '';
  const variables = new Map(input.env.map((v) => [v.name, v.value] as const));
  return {
    name: container.name,
    image: container.image ?? '',
    command: (container.command ?? []).map((part) => expandVariables(part, variables)),
    args: (container.args ?? []).map((part) => expandVariables(part, variables)),
    ...(container.workingDir !== undefined ? { workingDir: container.workingDir } : {}),
    env: input.env,
    mounts: input.volumes.mountsFor(container),
    resources: containerResources(container),
    logPath: containerLogPath(input.agentDir, namespace, name, uid, container.name, attempt),
    attempt,
    labels: {
      [runtimeLabels.podUid]: uid,
      [runtimeLabels.podName]: name,
      [runtimeLabels.podNamespace]: namespace,
      [runtimeLabels.containerName]: container.name,
      [runtimeLabels.attempt]: String(attempt),
    },
    ...(container.stdin !== undefined ? { stdin: container.stdin } : {}),
    ...(container.tty !== undefined ? { tty: container.tty } : {}),
    ...securityOf(input.pod, container),
  };
}

/** The container's securityContext basics, the pod's runAsUser/runAsGroup as its default (Kubernetes' precedence). */
function securityOf(pod: Pod, container: Container): { securityContext?: ContainerSecurity } {
  const own = container.securityContext ?? {};
  const podLevel = pod.spec?.securityContext ?? {};
  const runAsUser = own.runAsUser ?? podLevel.runAsUser;
  const runAsGroup = own.runAsGroup ?? podLevel.runAsGroup;
  const security: ContainerSecurity = {
    ...(runAsUser !== undefined ? { runAsUser } : {}),
    ...(runAsGroup !== undefined ? { runAsGroup } : {}),
    ...(own.readOnlyRootFilesystem !== undefined ? { readOnlyRootFilesystem: own.readOnlyRootFilesystem } : {}),
    ...(own.privileged !== undefined ? { privileged: own.privileged } : {}),
  };
  return Object.keys(security).length === 0 ? {} : { securityContext: security };
}

export interface SandboxConfigInput {
  readonly agentDir: string;
  readonly pod: Pod;
  readonly attempt: number;
  /** The address the checkpoint remembers for this pod (kept across an agent restart). */
  readonly ip: string | null;
  /** The node's cluster DNS and the host's resolver settings; absent: the sandbox gets no resolver settings (the runtime's default). */
  readonly dns?: PodDnsSettings;
}

export function podSandboxConfig(input: SandboxConfigInput): PodSandboxConfig {
  const { pod } = input;
  const namespace = pod.metadata?.namespace ?? 'default';
  const name = pod.metadata?.name ?? '';
  const uid = pod.metadata?.uid ?? '';
  const ports = (pod.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
  // dnsPolicy / dnsConfig → the resolver the sandbox's containers are told about (dns/pod-dns.ts).
  const dns = input.dns === undefined ? undefined : podDnsConfig(pod, input.dns);
  return {
    uid, name, namespace,
    attempt: input.attempt,
    hostname: pod.spec?.hostname ?? name,
    labels: sandboxLabels(pod),
    annotations: { ...(pod.metadata?.annotations ?? {}) },
    hostNetwork: pod.spec?.hostNetwork === true,
    ...(input.ip !== null ? { ip: input.ip } : {}),
    logDirectory: podLogDirectory(input.agentDir, namespace, name, uid),
    ...(dns !== undefined ? { dns } : {}),
    portMappings: ports.map((p) => ({
      containerPort: p.containerPort,
      protocol: (p.protocol ?? 'TCP') as 'TCP' | 'UDP' | 'SCTP',
      ...(p.hostPort !== undefined ? { hostPort: p.hostPort } : {}),
      ...(p.hostIP !== undefined ? { hostIp: p.hostIP } : {}),
    })),
  };
}
