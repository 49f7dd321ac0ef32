/** Opens a NATS connection and a store client for one CLI command, and closes them after. */
import { randomInt } from 'node:crypto';
import { NatsBus, Prng, SystemClock } from '../../../bus/index.js';
import { StoreClient } from '../../../store/index.js';
import { readClusterFile } from './cluster-file.js';

export interface StoreConnectionFlags {
  readonly nats?: string;
  readonly cluster?: string;
  readonly peers?: string;
  /** A `kubus up` directory: its cluster.json names NATS, the cluster and the members. */
  readonly dir?: string;
}

const defaults = { nats: 'nats://127.0.0.1:4222', cluster: 'kubus', dir: '.kubus' } as const;

/** Explicit flags win; otherwise the cluster recorded by `kubus up` in --dir (default .kubus). */
export function resolveConnection(flags: StoreConnectionFlags): { nats: string; cluster: string; members: string[] } {
  if (flags.peers !== undefined) return { nats: flags.nats ?? defaults.nats, cluster: flags.cluster ?? defaults.cluster, members: parseList(flags.peers) };
  const dir = flags.dir ?? defaults.dir;
  const file = readClusterFile(dir);
  if (file === null) throw new Error(`no --peers given and no cluster recorded in ${dir}/cluster.json; pass --peers s1,s2,s3 (and --nats), or --dir of a \`kubus up\` cluster`);
  return { nats: flags.nats ?? file.natsUrl, cluster: flags.cluster ?? file.cluster, members: [...file.members] };
}

export function parseList(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

export async function withStoreClient<T>(flags: StoreConnectionFlags, body: (client: StoreClient, members: string[]) => Promise<T>): Promise<T> {
  const { nats, cluster, members } = resolveConnection(flags);
  const bus = await NatsBus.connect({ servers: parseList(nats), name: 'kubus-cli', connectTimeoutMs: 5_000, reconnect: false });
  try {
    const client = new StoreClient({ bus, cluster, members, clock: new SystemClock(), random: new Prng(randomInt(2 ** 31)) });
    return await body(client, members);
  } finally {
    await bus.close();
  }
}
