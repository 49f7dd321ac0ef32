/**
 * `kubus agent` flag values into the agent's NodeConfig (pure: unit-tested in
 * test/nodeagent/agent-cli.test.ts). Every malformed value is refused with the form it must take.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Taint } from 'kubernetes-types/core/v1.js';
import { KubusError } from '../../../bus/errors.js';
import { parseDurationMs } from '../../controllers/runtime/controller-flags.js';
import { parseQuantity } from '../../objects/index.js';
import type { NodeConfig, NodeServicesConfig } from '../../../nodeagent/agent-context.js';
import { agentLimits, hostPodNetwork } from '../../../nodeagent/agent.js';
import { parseIpv4Cidr, runtimeNames, type CriRuntimeOptions, type DockerRuntimeOptions, type RuntimeName } from '../../../nodeagent/runtime/index.js';

export class AgentFlagError extends KubusError {
  override readonly name = 'AgentFlagError';
  readonly code = 'agentFlag';
}

export interface AgentFlags {
  readonly server?: string;
  readonly token?: string;
  readonly caCertHash?: string;
  readonly name?: string;
  readonly dir: string;
  readonly runtime: string;
  readonly labels?: string;
  readonly taints?: string;
  readonly systemReserved?: string;
  readonly maxPods: string;
  readonly nodeIp?: string;
  readonly nats?: string;
  readonly nodeLeaseRenewInterval: string;
  readonly drainOnStop?: boolean;
  readonly hollowNodes?: string;
  readonly logLevel: string;
  readonly podNetwork?: string;
  /** commander's `--no-service-proxy`: false when given. */
  readonly serviceProxy?: boolean;
  readonly nodeportAddresses?: string;
  /** `--cluster-dns <ip[:port]>`, or false for `--no-cluster-dns` (commander folds both into one key). */
  readonly clusterDns?: string | false;
  readonly clusterDomain?: string;
  /** `--cri-socket`: a running containerd's CRI socket (absent: the agent starts a private containerd). */
  readonly criSocket?: string;
  /** `--cri-pod-subnet`: the private containerd's CNI bridge subnet (IPv4 CIDR). */
  readonly criPodSubnet?: string;
  /** `--docker-socket`: the Docker Engine's socket (absent: DOCKER_HOST, else /var/run/docker.sock). */
  readonly dockerSocket?: string;
  /** `--allow-privileged`: run containers with securityContext.privileged (refused otherwise, as the kubelet's --allow-privileged=false). */
  readonly allowPrivileged?: boolean;
  /** `--metrics-address <host:port|:port|off>`: where the agent serves Prometheus /metrics (default <node-ip>:10255). */
  readonly metricsAddress?: string;
}

const taintEffects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
const reservable = ['cpu', 'memory', 'ephemeral-storage', 'pid'] as const;

function pairs(text: string | undefined, flag: string, form: string): [string, string][] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((item) => {
    const at = item.indexOf('=');
    if (at <= 0) throw new AgentFlagError(`--${flag}: "${item}" is not ${form}`);
    return [item.slice(0, at).trim(), item.slice(at + 1).trim()];
  });
}

/** `--labels k=v,k2=v2`. */
export function parseLabels(text: string | undefined): Record<string, string> {
  return Object.fromEntries(pairs(text, 'labels', 'key=value'));
}

/** `--taints k=v:Effect,k2:Effect` (kubectl taint's form; the value may be empty). */
export function parseTaints(text: string | undefined): Taint[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((item) => {
    const match = /^([^=:]+)(?:=([^:]*))?:([A-Za-z]+)$/.exec(item.trim());
    const effect = match?.[3];
    if (match === null || effect === undefined || !(taintEffects as readonly string[]).includes(effect)) {
      throw new AgentFlagError(`--taints: "${item}" is not key[=value]:Effect with Effect one of ${taintEffects.join(', ')}`);
    }
    return { key: match[1] as string, ...(match[2] !== undefined && match[2] !== '' ? { value: match[2] } : {}), effect };
  });
}

/** `--system-reserved cpu=500m,memory=1Gi` (quantities checked here, not at the first Node write). */
export function parseSystemReserved(text: string | undefined): Record<string, string> {
  const entries = pairs(text, 'system-reserved', 'resource=quantity');
  for (const [resource, quantity] of entries) {
    if (!(reservable as readonly string[]).includes(resource)) throw new AgentFlagError(`--system-reserved: ${resource} is not one of ${reservable.join(', ')}`);
    if (parseQuantity(quantity) === undefined) throw new AgentFlagError(`--system-reserved: ${resource}=${quantity} is not a quantity (like 500m, 1Gi)`);
  }
  return Object.fromEntries(entries);
}

/** The first non-internal IPv4 address, else loopback (a laptop without network). */
export function defaultNodeIp(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((address) => address.family === 'IPv4' && !address.internal);
    if (found !== undefined) return found.address;
  }
  return '127.0.0.1';
}

export function nodeConfigFromFlags(flags: AgentFlags, nodeIp: () => string = defaultNodeIp): NodeConfig {
  const maxPods = Number(flags.maxPods);
  if (!Number.isInteger(maxPods) || maxPods < 1) throw new AgentFlagError(`--max-pods must be a positive whole number, got "${flags.maxPods}"`);
  let leaseRenewIntervalMs: number;
  try {
    leaseRenewIntervalMs = parseDurationMs(flags.nodeLeaseRenewInterval, 'node-lease-renew-interval');
  } catch (error) {
    throw new AgentFlagError((error as Error).message);
  }
  if (leaseRenewIntervalMs <= 0 || leaseRenewIntervalMs >= agentLimits.leaseDurationSecondsDefault * 1000) {
    throw new AgentFlagError(`--node-lease-renew-interval must be above 0 and below the Lease duration (${agentLimits.leaseDurationSecondsDefault}s), got ${flags.nodeLeaseRenewInterval}`);
  }
  const ip = flags.nodeIp ?? nodeIp();
  return {
    labels: parseLabels(flags.labels), taints: parseTaints(flags.taints), systemReserved: parseSystemReserved(flags.systemReserved), maxPods,
    leaseDurationSeconds: agentLimits.leaseDurationSecondsDefault, leaseRenewIntervalMs, statusReportIntervalMs: agentLimits.statusReportIntervalMsDefault,
    nodeIp: ip, services: servicesConfigFromFlags(flags, ip),
  };
}

const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const dnsDomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** `--pod-network`, `--no-service-proxy`, `--nodeport-addresses`, `--cluster-dns`, `--no-cluster-dns`, `--cluster-domain`. */
export function servicesConfigFromFlags(flags: AgentFlags, nodeIp: string): NodeServicesConfig {
  const podNetwork = flags.podNetwork ?? hostPodNetwork();
  if (podNetwork.length > 63 || !labelValue.test(podNetwork) || podNetwork === '') {
    throw new AgentFlagError(`--pod-network must be a label value (at most 63 letters, digits, '-', '_', '.'), got "${podNetwork}"`);
  }
  const nodePortAddresses = flags.nodeportAddresses === undefined ? [nodeIp] : flags.nodeportAddresses.split(',').map((a) => a.trim()).filter((a) => a !== '');
  for (const address of nodePortAddresses) {
    if (isIP(address) === 0) throw new AgentFlagError(`--nodeport-addresses: "${address}" is not an IP address`);
  }
  const clusterDomain = flags.clusterDomain ?? 'cluster.local';
  if (!dnsDomain.test(clusterDomain)) throw new AgentFlagError(`--cluster-domain must be a DNS domain like cluster.local, got "${clusterDomain}"`);
  return {
    podNetwork, proxy: flags.serviceProxy !== false, nodePortAddresses, clusterDomain,
    clusterDns: flags.clusterDns === false ? null : parseHostPort(flags.clusterDns ?? nodeIp, 53, '--cluster-dns'),
  };
}

/** `ip` or `ip:port` (IPv4) into its parts. */
export function parseHostPort(text: string, defaultPort: number, flag: string): { address: string; port: number } {
  const match = /^([^:]+)(?::(\d+))?$/.exec(text.trim());
  const address = match?.[1] ?? '';
  const port = match?.[2] === undefined ? defaultPort : Number(match[2]);
  if (match === null || isIP(address) !== 4 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new AgentFlagError(`${flag} must be an IPv4 address with an optional port (like 127.0.0.1:53), got "${text}"`);
  }
  return { address, port };
}

/** `--nats a,b` into URLs (absent: the ones the API hands out). */
export function parseNatsUrls(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const urls = text.split(',').map((url) => url.trim()).filter((url) => url !== '');
  if (urls.length === 0) throw new AgentFlagError('--nats needs at least one URL (nats://host:port)');
  return urls;
}

export function parseRuntime(text: string): RuntimeName {
  const known: readonly string[] = runtimeNames;
  if (!known.includes(text)) throw new AgentFlagError(`--runtime must be one of ${runtimeNames.join(', ')}, got "${text}"`);
  return text as RuntimeName;
}

export interface RuntimeSettings {
  readonly cri?: CriRuntimeOptions;
  readonly docker?: DockerRuntimeOptions;
}

/**
 * `--cri-socket`, `--cri-pod-subnet`, `--docker-socket` into the runtimes' settings. A flag for
 * a runtime other than `--runtime` is refused: it would be silently ignored, and the user meant
 * something by it.
 */
export function runtimeSettingsFromFlags(flags: AgentFlags, runtime: RuntimeName): RuntimeSettings {
  const criGiven = flags.criSocket !== undefined || flags.criPodSubnet !== undefined;
  if (criGiven && runtime !== 'cri') throw new AgentFlagError(`--cri-socket and --cri-pod-subnet apply to --runtime cri, not ${runtime}`);
  if (flags.dockerSocket !== undefined && runtime !== 'docker') throw new AgentFlagError(`--docker-socket applies to --runtime docker, not ${runtime}`);
  if (flags.criSocket !== undefined && !flags.criSocket.startsWith('/') && !flags.criSocket.startsWith('unix://')) {
    throw new AgentFlagError(`--cri-socket must be a unix socket path (like /run/containerd/containerd.sock), got "${flags.criSocket}"`);
  }
  if (flags.criPodSubnet !== undefined) {
    try {
      parseIpv4Cidr(flags.criPodSubnet);
    } catch {
      throw new AgentFlagError(`--cri-pod-subnet must be an IPv4 CIDR (like 10.88.1.0/24), got "${flags.criPodSubnet}"`);
    }
  }
  if (flags.dockerSocket !== undefined && !flags.dockerSocket.startsWith('/') && !flags.dockerSocket.startsWith('unix://')) {
    throw new AgentFlagError(`--docker-socket must be a unix socket path (like /var/run/docker.sock), got "${flags.dockerSocket}"`);
  }
  const strip = (socket: string): string => socket.replace(/^unix:\/\//, '');
  if (runtime === 'cri') {
    return {
      cri: {
        ...(flags.criSocket !== undefined ? { socket: strip(flags.criSocket) } : {}),
        ...(flags.criPodSubnet !== undefined ? { podSubnet: flags.criPodSubnet } : {}),
      },
    };
  }
  if (runtime === 'docker') return { docker: flags.dockerSocket !== undefined ? { socket: strip(flags.dockerSocket) } : {} };
  return {};
}

export function parseHollowCount(text: string | undefined): number | null {
  if (text === undefined) return null;
  const count = Number(text);
  if (!Number.isInteger(count) || count < 1) throw new AgentFlagError(`--hollow-nodes must be a positive whole number, got "${text}"`);
  return count;
}
