/**
 * The private containerd's files, as pure functions of the node's directory and subnet: the
 * containerd config (TOML), the CNI conflist, and the names derived from the node so two agents
 * on one host never share a bridge, an address range or a socket.
 *
 * Decision (RUNTIMES.md): `restrict_oom_score_adj = true` is required here (root without
 * CAP_SYS_RESOURCE cannot set the pause container's -998); the streaming server listens on
 * loopback only, on a port chosen at start (containerd puts `:0` literally into its URLs).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export interface ContainerdLayout {
  readonly directory: string;
  readonly root: string;
  readonly state: string;
  readonly socket: string;
  readonly configFile: string;
  readonly pidFile: string;
  readonly logFile: string;
  readonly cniConfDirectory: string;
  readonly cniIpamDirectory: string;
  readonly runcRoot: string;
}

/**
 * Longest socket path we give containerd: containerd refuses unix socket paths over 104 bytes
 * (sun_path's portable size), and the ttrpc socket is the grpc one plus `.ttrpc`.
 */
export const socketPathBytesMax = 104 - '.ttrpc'.length;

/** Where short sockets go when the agent's directory is too deep for them (one directory per agent directory). */
export const shortSocketRoot = '/run/kubus-cri';

/** Where a private containerd keeps everything: `<agent dir>/runtime/containerd` (its sockets under /run/kubus-cri/<hash> when that path is too long). */
export function containerdLayout(agentDirectory: string): ContainerdLayout {
  const directory = join(agentDirectory, 'runtime', 'containerd');
  const socketInDirectory = join(directory, 'containerd.sock');
  const socket = Buffer.byteLength(socketInDirectory) <= socketPathBytesMax ? socketInDirectory : join(shortSocketRoot, nodeHash(agentDirectory), 'containerd.sock');
  return {
    directory,
    root: join(directory, 'root'),
    state: join(directory, 'state'),
    socket,
    configFile: join(directory, 'config.toml'),
    pidFile: join(directory, 'containerd.pid'),
    logFile: join(directory, 'containerd.log'),
    cniConfDirectory: join(directory, 'cni', 'net.d'),
    cniIpamDirectory: join(directory, 'cni', 'ipam'),
    runcRoot: join(directory, 'runc'),
  };
}

/** A short stable hash of the node's directory: names its bridge and picks its default subnet. */
export function nodeHash(agentDirectory: string): string {
  return createHash('sha256').update(agentDirectory).digest('hex').slice(0, 8);
}

/** The default pod subnet: a /24 inside 10.88.0.0/16 picked by the directory's hash (256 choices; collisions are possible, set --cri-pod-subnet then). */
export function defaultPodSubnet(agentDirectory: string): string {
  const third = Number.parseInt(nodeHash(agentDirectory).slice(0, 2), 16);
  return `10.88.${third}.0/24`;
}

/** The CNI network (and bridge) name, ≤ 15 characters as Linux interface names must be. */
export function cniNetworkName(agentDirectory: string): string {
  return `kubus${nodeHash(agentDirectory)}`;
}

export function cniConflist(options: { readonly networkName: string; readonly subnet: string; readonly ipamDirectory: string }): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: options.networkName,
    plugins: [
      {
        type: 'bridge',
        bridge: options.networkName,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: options.subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: options.ipamDirectory },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  }, null, 2);
}

const quote = (value: string): string => JSON.stringify(value);

export function containerdConfigToml(options: {
  readonly layout: ContainerdLayout;
  readonly sandboxImage: string;
  readonly streamPort: number;
  readonly cniBinDirectory: string;
}): string {
  const { layout } = options;
  const cri = '[plugins."io.containerd.grpc.v1.cri"]';
  return [
    'version = 2',
    `root = ${quote(layout.root)}`,
    `state = ${quote(layout.state)}`,
    '',
    '[grpc]',
    `  address = ${quote(layout.socket)}`,
    '',
    '[ttrpc]',
    `  address = ${quote(`${layout.socket}.ttrpc`)}`,
    '',
    '[debug]',
    '  address = ""',
    '',
    '[metrics]',
    '  address = ""',
    '',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${quote(join(layout.directory, 'opt'))}`,
    '',
    cri,
    `  sandbox_image = ${quote(options.sandboxImage)}`,
    '  restrict_oom_score_adj = true',
    '  stream_server_address = "127.0.0.1"',
    `  stream_server_port = ${quote(String(options.streamPort))}`,
    '  enable_tls_streaming = false',
    '  disable_apparmor = true',
    // Pod network namespaces under our state directory, not the host-wide /var/run/netns.
    '  netns_mounts_under_state_dir = true',
    '',
    `${cri.slice(0, -1)}.cni]`,
    `  bin_dir = ${quote(options.cniBinDirectory)}`,
    `  conf_dir = ${quote(layout.cniConfDirectory)}`,
    '  max_conf_num = 1',
    '',
    `${cri.slice(0, -1)}.containerd]`,
    '  snapshotter = "overlayfs"',
    '  default_runtime_name = "runc"',
    '',
    `${cri.slice(0, -1)}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    '',
    `${cri.slice(0, -1)}.containerd.runtimes.runc.options]`,
    `  Root = ${quote(layout.runcRoot)}`,
    '  SystemdCgroup = false',
    '',
  ].join('\n');
}
