/**
 * `kubus agent`: one worker node (or N hollow ones) joined to a cluster (issue 11 §2, §3).
 *
 *   first start:  kubus agent --server https://<member>:<port> --token <bootstrap token>
 *                   --ca-cert-hash sha256:<hex> --name <node> --dir <state dir>
 *   later starts: kubus agent --name <node> --dir <state dir>   (the identity is in --dir)
 *
 * SIGTERM/SIGINT stop the agent gracefully: pods keep running unless `--drain-on-stop`; the exit
 * comes within agentLimits.stopMs either way. A join refusal exits 1 with what to do.
 */
import { createJsonLogger } from '../../../bus/logger.js';
import { InvalidMetricsAddressError, parseMetricsAddress } from '../../../bus/telemetry/index.js';
import { agentLimits, defaultNodeName, startAgent, type AgentOptions, type RunningAgent } from '../../../nodeagent/agent.js';
import { startHollowNodes } from '../../../nodeagent/hollow-nodes.js';
import { AgentFlagError, nodeConfigFromFlags, parseHollowCount, parseNatsUrls, parseRuntime, runtimeSettingsFromFlags, type AgentFlags } from './agent-flags.js';

export function agentOptionsFromFlags(flags: AgentFlags, logger: AgentOptions['logger']): AgentOptions {
  const natsServers = parseNatsUrls(flags.nats);
  const runtime = parseRuntime(flags.runtime);
  const node = nodeConfigFromFlags(flags);
  return {
    join: {
      node: flags.name ?? defaultNodeName(), dir: flags.dir,
      ...(flags.server !== undefined ? { server: flags.server } : {}),
      ...(flags.token !== undefined ? { token: flags.token } : {}),
      ...(flags.caCertHash !== undefined ? { caCertHash: flags.caCertHash } : {}),
    },
    runtime, runtimeSettings: runtimeSettingsFromFlags(flags, runtime), allowPrivileged: flags.allowPrivileged === true,
    node, logger, metricsAddress: metricsAddressFromFlags(flags, node.nodeIp),
    ...(natsServers !== undefined ? { natsServers } : {}),
  };
}

/**
 * `--metrics-address`: absent → <node-ip>:10255 (the kubelet's read-only port), `off` → none.
 * Hollow hosts run many agents on one address: they serve none unless the flag names one.
 */
function metricsAddressFromFlags(flags: AgentFlags, nodeIp: string): ReturnType<typeof parseMetricsAddress> {
  if (flags.metricsAddress === undefined && flags.hollowNodes !== undefined) return null;
  try {
    return parseMetricsAddress(flags.metricsAddress, nodeIp);
  } catch (error) {
    if (error instanceof InvalidMetricsAddressError) throw new AgentFlagError(`--metrics-address: ${error.message}`);
    throw error;
  }
}

export async function runAgentCommand(flags: AgentFlags): Promise<void> {
  const logger = createJsonLogger({ level: flags.logLevel, fields: { component: 'kubus-agent' } });
  const options = agentOptionsFromFlags(flags, logger);
  const hollow = parseHollowCount(flags.hollowNodes);
  const agents: RunningAgent[] = hollow === null ? [await startAgent(options)] : await startHollowNodes(options, hollow);
  process.stdout.write(`kubus agent: ${agents.length === 1 ? `node ${agents[0]?.nodeName}` : `${agents.length} hollow nodes`} started (dir ${flags.dir})\n`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const drain = flags.drainOnStop === true;
    logger.info('stopping', { signal, drain, boundMs: agentLimits.stopMs });
    void Promise.all(agents.map((agent) => agent.stop({ drain }))).finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
