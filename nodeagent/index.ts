/** The node agent (`kubus agent`): its composition root, hollow nodes, joining, and the seams between its parts. */
export { startAgent, defaultNodeConfig, defaultNodeName, agentLimits, type AgentOptions, type RunningAgent, type RuntimeName } from './agent.js';
export { startHollowNodes, hollowNodeName, hollowNodesLimits } from './hollow-nodes.js';
export { caCertHash, parseCaHash, NodeSession, ensureIdentity, joinLimits } from './join/index.js';
export type { AgentContext, NodeConfig, NodeHandle, PodManagerHandle } from './agent-context.js';
