/**
 * Two tunnel ends without a cluster, for tests and the proxy benchmark (`bench:proxy`'s tunnel
 * path): a private operator-mode nats-server, agent users minted as the API mints them, the far
 * end (`startTunnelServer` of node `far`, whose fake runtime reports `podIps` as its ready pods)
 * and the near end's dialer (node `near`). Hand `dialer` and `podNetworks` to a proxy
 * (startStandaloneProxy) with endpoints whose nodeName is `far`, or dial directly.
 * `stop()` ends everything this started (the nats-server by its pid).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NatsBus, NatsServerProcess, SystemClock, createJsonLogger, ensureNatsCredentials, type Logger } from '../../../bus/index.js';
import type { StreamTuning } from '../../../bus/stream/index.js';
import { createTunnelDialer, startTunnelServer, type ClosableTunnelDialer, type PodNetworks, type TunnelServer } from '../../../nodeagent/tunnel/index.js';

export interface TunnelFixture {
  readonly natsUrl: string;
  readonly server: TunnelServer;
  readonly dialer: ClosableTunnelDialer;
  /** `near` and `far` on different pod networks: every endpoint of `far` is tunnelled. */
  readonly podNetworks: PodNetworks;
  stop(): Promise<void>;
}

export async function startTunnelFixture(options: { readonly podIps: readonly string[]; readonly cluster?: string; readonly tuning?: StreamTuning; readonly logger?: Logger }): Promise<TunnelFixture> {
  const cluster = options.cluster ?? 'tunnel';
  const logger = options.logger ?? createJsonLogger({ level: 'warn' });
  const clock = new SystemClock();
  const dir = mkdtempSync(join(tmpdir(), 'kubus-tunnel-fixture-'));
  const credentials = ensureNatsCredentials(dir);
  const nats = await NatsServerProcess.start({ maxPayloadBytes: 2 * 1024 * 1024, auth: await credentials.serverConfig() });
  const connect = async (node: string): Promise<NatsBus> => {
    const user = await credentials.mintAgent(cluster, node, { ttlMs: 24 * 60 * 60_000, nowMs: Date.now() });
    return NatsBus.connect({ servers: [nats.url], name: `agent-${node}`, user, connectTimeoutMs: 5_000, reconnect: false, logger });
  };
  const farBus = await connect('far');
  const nearBus = await connect('near');
  const tuning = options.tuning !== undefined ? { tuning: options.tuning } : {};
  const runtime = { listPodSandboxes: async () => options.podIps.map((ip, i) => ({ id: `sb${i}`, podUid: `uid-${i}`, state: 'ready' as const, ip, createdAtMs: 0, labels: {} })) };
  const server = startTunnelServer({ bus: farBus, cluster, nodeName: 'far', clock, logger }, { runtime, ...tuning });
  const dialer = createTunnelDialer({ bus: nearBus, cluster, nodeName: 'near', clock, logger }, tuning);
  return {
    natsUrl: nats.url,
    server,
    dialer,
    podNetworks: { self: 'near-network', of: (node) => (node === 'far' ? 'far-network' : 'near-network') },
    async stop() {
      dialer.close();
      await server.stop();
      await nearBus.close().catch(() => undefined);
      await farBus.close().catch(() => undefined);
      await nats.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
