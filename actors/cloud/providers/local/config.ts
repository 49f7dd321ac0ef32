/**
 * The `local` provider's `--cloud-config` (optional; YAML or JSON):
 *
 *     pool: 127.98.0.0/24          # or a list: [127.98.0.10, 127.98.0.11]
 *
 * Without a file the pool is 127.98.0.0/24: loopback, so a listener binds any address of it on
 * Linux with no setup (README's loopback address plan).
 */
import { AddressPool, AddressPoolError } from '../shared/address-pool.js';
import { ConfigFields, parseConfigDocument, readConfigText } from '../shared/config-file.js';

export const localProviderName = 'local';
export const defaultLocalPool = '127.98.0.0/24';

export interface LocalConfig {
  readonly pool: AddressPool;
}

export async function loadLocalConfig(file: string | null): Promise<LocalConfig> {
  if (file === null) return { pool: AddressPool.fromCidr(defaultLocalPool) };
  return parseLocalConfig(file, await readConfigText(localProviderName, file));
}

export function parseLocalConfig(file: string, text: string): LocalConfig {
  const fields = new ConfigFields(localProviderName, file);
  const document = parseConfigDocument(localProviderName, file, text);
  fields.only(document, '', ['pool']);
  const pool = document['pool'];
  try {
    if (pool === undefined) return { pool: AddressPool.fromCidr(defaultLocalPool) };
    if (typeof pool === 'string') return { pool: AddressPool.fromCidr(pool) };
    if (Array.isArray(pool) && pool.every((entry): entry is string => typeof entry === 'string')) return { pool: AddressPool.fromList(pool) };
  } catch (error) {
    if (error instanceof AddressPoolError) throw fields.invalid('pool', error.message);
    throw error;
  }
  throw fields.invalid('pool', 'must be a CIDR (127.98.0.0/24) or a list of addresses');
}
