#!/usr/bin/env node
/**
 * The `kubus` command: declarations only (names, flags, help); each action lives in
 * commands/<name>.ts. commander parses: it is the most used Node CLI parser, maintained, typed,
 * with subcommands and generated help, and no dependencies of its own.
 *
 * Decision: every action is imported when its command runs, never at the top: one process runs one
 * command, and a static import of `server` loaded the whole control plane (store, LMDB, API server)
 * into every `kubus agent` (measured: 102 MB RSS for a compiled agent; the agent's budget is 60 MB).
 */
import { Command, Option } from 'commander';
import { defaultRaftTiming, driverLimits } from '../../store/driver-limits.js';
import type { UpFlags } from './commands/up.js';
import { addControllerOptions, addLeaderElectionOptions } from './commands/control-plane-flags.js';

const program = new Command('kubus').description('kubus: a Kubernetes-style orchestrator on a Raft-replicated LMDB store').showHelpAfterError();

const natsOption = () => new Option('--nats <urls>', 'NATS server URL(s), comma-separated (default: from --dir, else nats://127.0.0.1:4222)');
const clusterOption = () => new Option('--cluster <name>', 'cluster name: the subject prefix kubus.<name>. (default: from --dir, else kubus)');
const peersOption = () => new Option('--peers <ids>', 'store members, comma-separated, e.g. s1,s2,s3 (default: from --dir)');
const dirOption = () => new Option('--dir <dir>', 'a `kubus up` directory to take NATS, cluster and members from').default('.kubus');
const credentialsDirOption = () => new Option('--credentials-dir <dir>', 'the directory holding the cluster\'s NATS keys (nats/) to mint an admin bus user from (default: --dir)');

/** The commands that talk to the store directly: where it is, and the keys to mint a bus user from. */
function withStoreAccess(command: Command): Command {
  for (const option of [natsOption(), clusterOption(), peersOption(), dirOption(), credentialsDirOption()]) command.addOption(option);
  return command;
}

program
  .command('server')
  .description('run one control-plane member: the store member and, with --api-port, the Kubernetes API server')
  .requiredOption('--id <id>', 'this member\'s id, one of --peers (unless --join)')
  .requiredOption('--data-dir <dir>', 'where this member keeps its LMDB files')
  .addOption(natsOption().default('nats://127.0.0.1:4222'))
  .addOption(clusterOption().default('kubus'))
  .addOption(peersOption().makeOptionMandatory())
  .option('--tick-ms <ms>', 'Raft tick length', String(defaultRaftTiming.tickMs))
  .option('--election-ticks <n>', 'election timeout in ticks (randomized up to twice this)', String(defaultRaftTiming.electionTicks))
  .option('--heartbeat-ticks <n>', 'heartbeat interval in ticks', String(defaultRaftTiming.heartbeatTicks))
  .option('--join', 'join an existing cluster (after `kubus member add <id>`): start empty, take the state from the leader')
  .option('--map-size-mb <mb>', 'LMDB map size: the most the store may grow to', '4096')
  .option('--quota-bytes <bytes>', 'space quota of the store: beyond it writes that add data are refused (NOSPACE alarm, see `kubus alarm`); default 3/4 of the map size')
  .option('--snapshot-every <entries>', 'applied entries between snapshots (then the log is compacted)', String(driverLimits.snapshotEveryEntries))
  .option('--log-level <level>', 'debug, info, warn or error', 'info')
  .option('--api-port <port>', 'serve the Kubernetes API over HTTPS on this port (0: a free one); needs --credentials-dir')
  .option('--api-host <host>', 'address the API listens on', '127.0.0.1')
  .option('--advertise-address <ip>', 'the address pods and nodes reach this member\'s API on (the `kubernetes` Service\'s endpoints); default --api-host, or the first non-loopback IPv4 when that is 0.0.0.0')
  .option('--credentials-dir <dir>', 'the cluster\'s NATS keys (nats/: the member mints its bus user from them), CA, serving certificate (pki/) and token file (tokens.csv)')
  .option('--node-credentials-ttl <seconds>', 'lifetime of a node agent\'s NATS user and API token (agents renew them at 2/3); default 3600')
  .option('--api-max-in-flight <n>', 'requests the API serves at once (shared among priority levels; beyond: queued, then 429)', '400')
  .option('--no-scheduler', 'do not run the scheduler in this member (it runs by default with --api-port, active while it holds Lease kube-system/kube-scheduler)')
  .option('--no-controller-manager', 'do not run the controller manager in this member (it runs by default with --api-port, active while it holds Lease kube-system/kube-controller-manager)')
  .option('--service-cluster-ip-range <cidr>', 'the range Service cluster IPs are allocated from (every member the same; a loopback range keeps a one-host cluster on this machine)', '127.96.0.0/16')
  .option('--service-node-port-range <from-to>', 'the range NodePorts are allocated from', '30000-32767')
  .action(async (flags) => (await import('./commands/server.js')).runServerCommand(flags));
addControllerOptions(addLeaderElectionOptions(program.commands.find((c) => c.name() === 'server') as Command));

const componentOf = { 'controller-manager': 'kube-controller-manager', scheduler: 'kube-scheduler', 'cloud-controller-manager': 'cloud-controller-manager' } as const;

/** `kubus controller-manager` / `kubus scheduler` / `kubus cloud-controller-manager`: one component as its own process. */
for (const [name, description] of [
  ['controller-manager', 'run the controller manager alone (leader-elected on Lease kube-system/kube-controller-manager), talking to the API over NATS'],
  ['scheduler', 'run the scheduler alone (leader-elected on Lease kube-system/kube-scheduler), talking to the API over NATS'],
  ['cloud-controller-manager', 'run the cloud controller manager alone (leader-elected on Lease kube-system/cloud-controller-manager) with --cloud-provider, talking to the API over NATS'],
] as const) {
  const command = program
    .command(name)
    .description(description)
    .addOption(natsOption())
    .addOption(clusterOption())
    .option('--token <token>', 'the component\'s API bearer token (default: its line in <credentials-dir>/tokens.csv)')
    .option('--credentials-dir <dir>', 'the cluster\'s credentials directory: NATS keys (nats/) to mint the component\'s bus user, pki/ca.crt, tokens.csv (default: --dir)')
    .addOption(dirOption())
    .option('--id <identity>', 'leader-election identity prefix (default: host name)')
    .option('--log-level <level>', 'debug, info, warn or error', 'info');
  addControllerOptions(addLeaderElectionOptions(command));
  command.action(async (flags) => (await import('./commands/component.js')).runComponentCommand(componentOf[name], flags));
}

withStoreAccess(program
  .command('status')
  .description('show every store member: role, leader, term, commit and applied index, revision, failure tolerance'))
  .option('--json', 'print JSON')
  .action(async (flags) => (await import('./commands/status.js')).runStatusCommand(flags));

withStoreAccess(program
  .command('member')
  .description('change store membership, one change at a time: add (as learner), promote, remove')
  .argument('<action>', 'add | promote | remove | transfer-leadership')
  .argument('<id>', 'the member to change'))
  .action(async (action: string, id: string, flags) => (await import('./commands/member.js')).runMemberCommand(action, id, flags));

withStoreAccess(program
  .command('kv')
  .description('read and write store keys directly (for operators and debugging)')
  .argument('<action>', 'get | put | del | list | compact')
  .argument('<key>', 'the key (for list: the prefix; for compact: a revision, or now)')
  .argument('[value]', 'the value, for put'))
  .option('--serializable', 'read from any member without a quorum round (may be stale)')
  .action(async (action: string, key: string, value: string | undefined, flags) => (await import('./commands/kv.js')).runKvCommand(action, key, value, flags));

withStoreAccess(program
  .command('alarm')
  .description('list or clear store alarms: NOSPACE means a member passed its --quota-bytes and writes that add data are refused; free space (kv del, compaction), then disarm')
  .argument('<action>', 'list | disarm'))
  .option('--json', 'print JSON')
  .action(async (action: string, flags) => (await import('./commands/alarm.js')).runAlarmCommand(action, flags));

program
  .command('up')
  .description('start a local cluster: a nats-server, N members and N node agents as separate processes, Services on loopback addresses (up-network.ts); returns once a leader is elected')
  .option('--servers <n>', 'members: 1, 3 or 5', '3')
  .addOption(dirOption())
  .addOption(new Option('--cluster <name>', 'cluster name').default('kubus'))
  .option('--agents <n>', 'worker node agents to start as separate processes (joined with a bootstrap token like a real host)', '0')
  .addOption(new Option('--runtime <name>', 'the agents\' container runtime (default: cri when containerd is installed, else docker when an engine answers, else process; up says which and why)').choices(['cri', 'docker', 'process', 'hollow']))
  .option('--no-cloud-provider', 'members run no cloud controller manager (default: the local provider, load balancers on 127.98.0.0/24)')
  // Loaded on use: `up` pulls in the X.509 stack that other commands do not need.
  .action(async (flags: UpFlags) => (await import('./commands/up.js')).runUpCommand(flags));

program
  .command('agent')
  .description('run a worker node agent: join the cluster (first start: --server, --token, --ca-cert-hash), register the Node, run the pods bound to it')
  .option('--server <url>', 'a member\'s API, https://<member>:<port> (first join; later starts reuse the one in --dir)')
  .option('--token <token>', 'a bootstrap token (`kubus token create --bootstrap`), for the first join only')
  .option('--ca-cert-hash <sha256:hex>', 'the cluster CA\'s public-key hash (`kubus up` prints it): the join refuses any other CA')
  .option('--name <node>', 'the Node name (default: the host name)')
  .requiredOption('--dir <dir>', 'the agent\'s state: identity, checkpoint, pod directories, logs (keep it: a restart reuses the identity)')
  .addOption(new Option('--runtime <name>', 'container runtime: cri (containerd over CRI), docker (Docker Engine), process (host processes), hollow (nothing runs; scale tests)').choices(['cri', 'docker', 'process', 'hollow']).default('process'))
  .option('--cri-socket <path>', 'cri: a running containerd\'s socket (default: the agent starts a private containerd under --dir)')
  .option('--cri-pod-subnet <cidr>', 'cri: the private containerd\'s pod bridge subnet (default: a /24 of 10.88.0.0/16 derived from --dir)')
  .option('--docker-socket <path>', 'docker: the engine\'s socket (default: DOCKER_HOST, else /var/run/docker.sock)')
  .option('--allow-privileged', 'run containers that ask for securityContext.privileged (refused by default)')
  .option('--metrics-address <host:port|:port|off>', 'where to serve Prometheus /metrics over plain HTTP (default <node-ip>:10255; off disables)')
  .option('--labels <k=v,...>', 'Node labels besides kubernetes.io/hostname, os and arch')
  .option('--taints <k=v:Effect,...>', 'Node taints (Effect: NoSchedule, PreferNoSchedule, NoExecute)')
  .option('--system-reserved <cpu=...,memory=...>', 'resources kept for the host: subtracted from capacity for allocatable')
  .option('--max-pods <n>', 'pods this node accepts', '110')
  .option('--node-ip <ip>', 'the address other hosts reach this node on (default: the first non-loopback IPv4)')
  .option('--nats <urls>', 'NATS URL(s), comma-separated, instead of the ones the API hands out (a host that reaches NATS another way)')
  .option('--node-lease-renew-interval <duration>', 'how often the node\'s Lease is renewed', '10s')
  .option('--drain-on-stop', 'on SIGTERM stop the pods gracefully (default: they keep running while the agent is down)')
  .option('--hollow-nodes <n>', 'run N hollow agents in this process (names <name>-<i>, dirs <dir>/<name>-<i>), for scale tests')
  .option('--pod-network <name>', 'nodes with the same pod network route each other\'s pod IPs; endpoints on other pod networks are reached through the NATS tunnel (default: this host\'s machine id)')
  .option('--no-service-proxy', 'do not run the service proxy (ClusterIP, NodePort) on this node')
  .option('--nodeport-addresses <ips>', 'addresses NodePorts listen on, comma-separated (default: --node-ip)')
  .option('--cluster-dns <ip[:port]>', 'where this node\'s DNS server listens; pods are told this address (default: --node-ip, port 53)')
  .option('--no-cluster-dns', 'do not run the cluster DNS server on this node')
  .option('--cluster-domain <domain>', 'the cluster\'s DNS domain', 'cluster.local')
  .option('--log-level <level>', 'debug, info, warn or error', 'info')
  .action(async (flags) => (await import('./commands/agent.js')).runAgentCommand(flags));

program
  .command('bus-init')
  .description('for a cluster run by hand: create the NATS keys in --dir/nats/ (kept if present) and write --dir/nats.conf (operator mode: only minted users connect)')
  .requiredOption('--dir <dir>', 'the credentials directory members and commands are given (--credentials-dir)')
  .option('--listen <host:port>', 'where nats-server listens', '127.0.0.1:4222')
  .action(async (flags: { dir: string; listen: string }) => (await import('./commands/nats-config.js')).runBusInitCommand(flags));

program
  .command('down')
  .description('stop every process `kubus up` started in --dir (the data stays)')
  .addOption(dirOption())
  .action(async (flags) => (await import('./commands/down.js')).runDownCommand(flags));

const token = program.command('token').description('manage API tokens kept in the cluster store (revocation reaches every member within a second)');
const kubeconfigOption = () => new Option('--kubeconfig <path>', 'the admin kubeconfig (default: the one `kubus up` wrote in --dir)');
token
  .command('create')
  .description('create a token and print it; --bootstrap makes a node-join token (user system:bootstrap:<id>)')
  .option('--user <name>', 'the user the token authenticates as')
  .option('--group <group>', 'a group of the user (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
  .option('--ttl <duration>', 'lifetime: 30m, 24h, 7d; 0 never expires', '24h')
  .option('--bootstrap', 'a bootstrap token (<6>.<16> characters, group system:bootstrappers)')
  .addOption(dirOption())
  .addOption(kubeconfigOption())
  .action(async (flags) => (await import('./commands/token.js')).runTokenCreate(flags));
token
  .command('list')
  .description('list the stored tokens (never their values)')
  .addOption(dirOption())
  .addOption(kubeconfigOption())
  .option('--json', 'print JSON')
  .action(async (flags) => (await import('./commands/token.js')).runTokenList(flags));
token
  .command('revoke')
  .description('revoke a token by its id: every member refuses it from then on')
  .argument('<id>', 'the token id (`kubus token list`)')
  .addOption(dirOption())
  .addOption(kubeconfigOption())
  .action(async (id: string, flags) => (await import('./commands/token.js')).runTokenRevoke(id, flags));

program.parseAsync(process.argv).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`kubus: ${message}\n`);
  process.exit(1);
});
