/**
 * Opens a NATS connection and a store client for one CLI command, and closes them after. The bus
 * admits no anonymous client: the command mints itself a short-lived admin user from the cluster's
 * credentials directory (`--credentials-dir`, by default the `kubus up` directory `--dir`), so only
 * someone who can read those keys can use `kubus kv`, `member` and `status`.
 */
import { randomInt } from 'node:crypto';
import { NatsBus, Prng, SystemClock, loadNatsCredentials, natsCredentialsLimits } from '../../../bus/index.js';
import { StoreClient } from '../../../store/index.js';
import { readClusterFile } from './cluster-file.js';

export interface StoreConnectionFlags {
  readonly nats?: string;
  readonly cluster?: string;
  readonly peers?: string;
  /** A `kubus up` directory: its cluster.json names NATS, the cluster and the members. */
  readonly dir?: string;
  /** Where the cluster's NATS keys are (`nats/`); default: --dir. */
  readonly credentialsDir?: string;
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
  const credentials = loadNatsCredentials(flags.credentialsDir ?? flags.dir ?? defaults.dir);
  const user = await credentials.mintAdmin(cluster, { ttlMs: natsCredentialsLimits.adminTtlMs, nowMs: Date.now() });
  const bus = await NatsBus.connect({ servers: parseList(nats), name: 'kubus-cli', user, connectTimeoutMs: 5_000, reconnect: false });
  try {
    const client = new StoreClient({ bus, cluster, members, clock: new SystemClock(), random: new Prng(randomInt(2 ** 31)) });
    return await body(client, members);
  } finally {
    await bus.close();
  }
}
