/** `kubus member add|promote|remove|transfer-leadership <id>`: one membership change at a time. */
import { withStoreClient, type StoreConnectionFlags } from './store-connection.js';

const actions = { add: 'addLearner', promote: 'promote', remove: 'remove' } as const;

export async function runMemberCommand(action: string, id: string, flags: StoreConnectionFlags): Promise<void> {
  await withStoreClient(flags, async (client) => {
    if (action === 'transfer-leadership') {
      await client.transferLeadership(id);
      process.stdout.write(`leadership transfer to ${id} started\n`);
      return;
    }
    const type = actions[action as keyof typeof actions];
    if (type === undefined) throw new Error(`unknown member action "${action}": use add, promote, remove or transfer-leadership`);
    await client.changeMembership({ type, member: id });
    const next = type === 'addLearner' ? `; start it with: kubus server --id ${id} --join --peers <current members> --data-dir <dir> --nats <url> --credentials-dir <the kubus up dir>, then once it caught up: kubus member promote ${id}` : '';
    process.stdout.write(`member ${id}: ${action} committed${next}\n`);
  });
}
