/**
 * `kubus agent --hollow-nodes N`: N hollow agents in one process (kubemark's hollow kubelets), so
 * 5,000 nodes fit on one machine. Each is a whole agent with its own identity (`<name>-<i>`, its
 * own `--dir` `<dir>/<name>-<i>`, its own CSR, NATS user and connection), on the hollow runtime:
 * only the containers are simulated; joining, the Node, its Lease, assignments and pod status
 * are the real code paths.
 *
 * Decision: joins run `joinConcurrencyMax` at a time: each costs the members a CSR signature and
 * a credentials mint, and 500 at once would look like an attack to the API's fairness queues.
 * One failed join stops the ones started and fails the command: a scale run with missing nodes
 * measures something else.
 */
import type { Logger } from '../bus/logger.js';
import { join } from 'node:path';
import { startAgent, type AgentOptions, type RunningAgent } from './agent.js';

export const hollowNodesLimits = {
  joinConcurrencyMax: 16,
  /** One process hosts at most this many (each holds a NATS connection: file descriptors, ~100 KB). */
  countMax: 2_000,
} as const;

export function hollowNodeName(base: string, index: number): string {
  return `${base}-${index}`;
}

export async function startHollowNodes(options: AgentOptions, count: number): Promise<RunningAgent[]> {
  if (!Number.isInteger(count) || count < 1 || count > hollowNodesLimits.countMax) {
    throw new RangeError(`--hollow-nodes must be a whole number from 1 to ${hollowNodesLimits.countMax}, got ${count}`);
  }
  const started: RunningAgent[] = [];
  let next = 0;
  let failed = false;
  const progress = progressReporter(options.logger, count);
  const worker = async (): Promise<void> => {
    while (next < count && !failed) {
      const index = next++;
      const name = hollowNodeName(options.join.node, index);
      try {
        started.push(await startAgent({ ...options, runtime: 'hollow', join: { ...options.join, node: name, dir: join(options.join.dir, name) } }));
      } catch (error) {
        failed = true;
        throw error;
      }
      progress(started.length);
    }
  };
  // allSettled: every join in flight finishes before the cleanup, so none is left running unseen.
  const results = await Promise.allSettled(Array.from({ length: Math.min(hollowNodesLimits.joinConcurrencyMax, count) }, worker));
  const refusal = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (refusal !== undefined) {
    await Promise.all(started.map((agent) => agent.stop({ drain: false })));
    throw refusal.reason;
  }
  return started;
}

function progressReporter(logger: Logger, count: number): (done: number) => void {
  const step = Math.max(1, Math.floor(count / 10));
  return (done) => {
    if (done % step === 0 || done === count) logger.info(`hollow nodes started: ${done}/${count}`);
  };
}
