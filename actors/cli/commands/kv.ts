/** `kubus kv get|put|del|list`: direct key access for operators; values are UTF-8 text. */
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
      default:
        throw new Error(`unknown kv action "${action}": use get, put, del or list`);
    }
  });
}
