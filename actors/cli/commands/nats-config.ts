/**
 * The nats-server configuration of a kubus cluster: where it listens, the largest message, and
 * the operator-mode authentication (bus/nats-auth.ts) from the keys in `<dir>/nats/`. `kubus up`
 * rewrites it before each start of its nats-server (so revocations recorded since are preloaded,
 * and a directory from before the bus was closed gets closed too); `kubus bus-init` writes it for
 * a cluster run by hand.
 */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureNatsCredentials } from '../../../bus/index.js';

/** A store request may be 1.5 MiB; NATS's default max_payload is 1 MiB (2.9 has no flag for it). */
const maxPayload = '4MB';

export async function writeNatsConfig(dir: string, listen: string): Promise<string> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const credentials = ensureNatsCredentials(dir);
  const path = join(dir, 'nats.conf');
  const text = `listen: "${listen}"\nmax_payload: ${maxPayload}\n${await credentials.serverConfig()}`;
  writeFileSync(`${path}.tmp`, text, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return path;
}

/** `kubus bus-init`: NATS keys in --dir/nats/ (kept if present) and --dir/nats.conf for nats-server -c. */
export async function runBusInitCommand(flags: { dir: string; listen: string }): Promise<void> {
  process.umask(0o077);
  const dir = resolve(flags.dir);
  const path = await writeNatsConfig(dir, flags.listen);
  process.stdout.write(`NATS keys in ${join(dir, 'nats')}; server configuration ${path}\n`);
  process.stdout.write(`  nats-server -c ${path}\n`);
  process.stdout.write(`  kubus server ... --credentials-dir ${dir}    kubus status ... --credentials-dir ${dir}\n`);
}
