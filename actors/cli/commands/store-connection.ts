/** Opens a NATS connection and a store client for one CLI command, and closes them after. */
import { randomInt } from 'node:crypto';
import { NatsBus, Prng, SystemClock } from '../../../bus/index.js';
import { StoreClient } from '../../../store/index.js';

export interface StoreConnectionFlags {
  readonly nats: string;
  readonly cluster: string;
  readonly peers: string;
}

export function parseList(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

export async function withStoreClient<T>(flags: StoreConnectionFlags, body: (client: StoreClient, members: string[]) => Promise<T>): Promise<T> {
  const members = parseList(flags.peers);
  const bus = await NatsBus.connect({ servers: parseList(flags.nats), name: 'kubus-cli', connectTimeoutMs: 5_000, reconnect: false });
  try {
    const client = new StoreClient({ bus, cluster: flags.cluster, members, clock: new SystemClock(), random: new Prng(randomInt(2 ** 31)) });
    return await body(client, members);
  } finally {
    await bus.close();
  }
}
