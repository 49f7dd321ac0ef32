/** `kubus kv get|put|del|list|compact`: direct key access for operators; values are UTF-8 text. */
import { withStoreClient, type StoreConnectionFlags } from './store-connection.js';

export async function runKvCommand(action: string, key: string, value: string | undefined, flags: StoreConnectionFlags & { serializable?: boolean }): Promise<void> {
  const consistency = flags.serializable ? 'serializable' : 'linearizable';
  await withStoreClient(flags, async (client) => {
    switch (action) {
      case 'get': {
        const kv = await client.get(key, { consistency });
        if (kv === null) throw new Error(`key ${key} not found`);
        process.stdout.write(`${new TextDecoder().decode(kv.value)}\n`);
        return;
      }
      case 'put': {
        if (value === undefined) throw new Error('put needs a value: kubus kv put <key> <value>');
        const result = await client.put({ key, value: new TextEncoder().encode(value) });
        process.stdout.write(`revision ${result.revision}\n`);
        return;
      }
      case 'del': {
        const result = await client.delete({ key });
        process.stdout.write(`deleted ${result.deleted} at revision ${result.revision}\n`);
        return;
      }
      case 'list': {
        const response = await client.range({ key, prefix: true }, { consistency });
        for (const kv of response.result.kvs) process.stdout.write(`${kv.key}\t${new TextDecoder().decode(kv.value)}\n`);
        return;
      }
      case 'compact': {
        // Frees the history before a revision (what a full store needs, with deletes, before `kubus alarm disarm`).
        const revision = key === 'now' ? (await client.range({ key: '\0', countOnly: true })).result.revision : Number(key);
        if (!Number.isSafeInteger(revision) || revision <= 0) throw new Error(`compact needs a revision or "now": kubus kv compact <revision|now>, got "${key}"`);
        await client.compact(revision);
        process.stdout.write(`compacted history up to revision ${revision}\n`);
        return;
      }
      default:
        throw new Error(`unknown kv action "${action}": use get, put, del, list or compact`);
    }
  });
}
