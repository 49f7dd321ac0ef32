/**
 * `kubus alarm list|disarm`: the store's alarms (etcd's `etcdctl alarm`). A NOSPACE alarm means a
 * member's data passed its `--quota-bytes`: the cluster refuses writes that add data until space
 * is freed (delete keys, compact) and the alarm is disarmed; a member still over its quota raises
 * it again within a second.
 */
import type { AlarmInfo, MemberStatus } from '../../../store/index.js';
import { withStoreClient, type StoreConnectionFlags } from './store-connection.js';

/** One status round per member: a dead member must not hold the command up. */
const statusTimeoutMs = 2_000;

export async function runAlarmCommand(action: string, flags: StoreConnectionFlags & { json?: boolean }): Promise<void> {
  await withStoreClient(flags, async (client, members) => {
    switch (action) {
      case 'list': {
        const rows = await Promise.all(members.map((id) => client.status(id, { timeoutMs: statusTimeoutMs }).then((status) => ({ id, status }), (error: unknown) => ({ id, error: String(error) }))));
        const up = rows.filter((row): row is { id: string; status: MemberStatus } => 'status' in row);
        // Alarms are replicated: the member that applied the most has the freshest list.
        const freshest = up.reduce<MemberStatus | null>((best, row) => (best === null || row.status.appliedIndex > best.appliedIndex ? row.status : best), null);
        if (freshest === null) throw new Error(`no member answered: ${rows.map((row) => `${row.id}: ${'error' in row ? row.error : ''}`).join('; ')}`);
        const alarms: readonly AlarmInfo[] = freshest.alarms ?? [];
        if (flags.json === true) {
          const space = up.map(({ id, status }) => ({ id, usedBytes: status.dbSizeBytes, quotaBytes: status.quotaBytes }));
          process.stdout.write(`${JSON.stringify({ alarms, space }, null, 2)}\n`);
          return;
        }
        if (alarms.length === 0) process.stdout.write('no alarms\n');
        for (const alarm of alarms) process.stdout.write(`${alarm.alarm.toUpperCase()}\tmember ${alarm.member}\t${alarm.usedBytes} bytes in use of a ${alarm.quotaBytes}-byte quota\n`);
        for (const { id, status } of up) process.stdout.write(`member ${id}: ${status.dbSizeBytes ?? '?'} of ${status.quotaBytes ?? '?'} bytes\n`);
        return;
      }
      case 'disarm': {
        await client.write({ type: 'alarmDisarm' });
        process.stdout.write('alarms disarmed; a member still over its quota raises NOSPACE again (free space first: delete keys and compact)\n');
        return;
      }
      default:
        throw new Error(`unknown alarm action "${action}": use list or disarm`);
    }
  });
}
