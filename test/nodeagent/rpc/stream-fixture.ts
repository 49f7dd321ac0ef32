/**
 * An agent's stream server over a private nats-server with NATS permissions, and a member-like
 * opener (a StreamEndpoint on the member's stream subject, as the API server opens them), for
 * the stream server suites of each runtime. `stop()` ends what this started (nats-server by pid).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsBus, NatsServerProcess, SystemClock, createJsonLogger } from '../../../bus/index.js';
import { ensureNatsCredentials } from '../../../bus/index.js';
import { StreamEndpoint, type BusStream } from '../../../bus/stream/index.js';
import { subjects } from '../../../bus/subjects.js';
import { startStreamServer } from '../../../nodeagent/rpc/stream-server.js';
import type { StreamOpenHeader } from '../../../nodeagent/rpc/stream-protocol.js';
import type { ContainerRuntime } from '../../../nodeagent/runtime/types.js';

export interface StreamFixture {
  open(header: StreamOpenHeader): Promise<BusStream>;
  stop(): Promise<void>;
}

export async function startStreamFixture(runtime: ContainerRuntime, options: { readonly cluster: string; readonly node: string }): Promise<StreamFixture> {
  const logger = createJsonLogger({ level: 'error' });
  const clock = new SystemClock();
  const dir = mkdtempSync(join(tmpdir(), 'kubus-stream-fixture-'));
  const credentials = ensureNatsCredentials(dir);
  const nats = await NatsServerProcess.start({ maxPayloadBytes: 2 * 1024 * 1024, auth: await credentials.serverConfig() });
  const now = Date.now();
  const agentBus = await NatsBus.connect({ servers: [nats.url], name: `agent-${options.node}`, user: await credentials.mintAgent(options.cluster, options.node, { ttlMs: 3_600_000, nowMs: now }), connectTimeoutMs: 5_000, reconnect: false, logger });
  const memberBus = await NatsBus.connect({ servers: [nats.url], name: 'member-m1', user: await credentials.mintMember(options.cluster, 'm1', now), connectTimeoutMs: 5_000, reconnect: false, logger });
  const server = startStreamServer({ bus: agentBus, cluster: options.cluster, nodeName: options.node, clock, logger }, { runtime });
  const member = new StreamEndpoint({ bus: memberBus, clock, logger, dataSubject: subjects(options.cluster).memberStream('m1') });
  return {
    open: (header) => member.open(subjects(options.cluster).nodeStream(options.node), { mode: 'bytes', header }),
    stop: async () => {
      member.close();
      await server.stop();
      await agentBus.close().catch(() => undefined);
      await memberBus.close().catch(() => undefined);
      await nats.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
