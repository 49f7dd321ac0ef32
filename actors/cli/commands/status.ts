/** `kubus status`: asks every member for its view and prints one table (or JSON). */
import type { MemberStatus } from '../../../store/index.js';
import { withStoreClient, type StoreConnectionFlags } from './store-connection.js';

export async function runStatusCommand(flags: StoreConnectionFlags & { json?: boolean }): Promise<void> {
  await withStoreClient(flags, async (client, members) => {
    const rows = await Promise.all(
      members.map(async (id) => {
        try {
          return { id, status: await client.status(id, { timeoutMs: 2_000 }) };
        } catch (error) {
          return { id, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
    const up = rows.filter((row): row is { id: string; status: MemberStatus } => 'status' in row);
    const leader = up.find((row) => row.status.role === 'leader')?.status ?? null;
    const voters = leader?.conf.voters.length ?? members.length;
    const summary = {
      leader: leader?.id ?? null,
      term: leader?.term ?? null,
      writable: leader?.writable ?? false,
      membersUp: up.length,
      failureTolerance: Math.max(0, up.length - (Math.floor(voters / 2) + 1)),
    };
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ ...summary, members: rows })}\n`);
      return;
    }
    const header = ['MEMBER', 'ROLE', 'LEADER', 'TERM', 'COMMIT', 'APPLIED', 'REVISION', 'REACHABLE'];
    const lines = rows.map((row) =>
      'status' in row
        ? [row.id, row.status.role, row.status.leader ?? '-', row.status.term, row.status.commitIndex, row.status.appliedIndex, row.status.revision, `${row.status.reachable}/${row.status.conf.voters.length}`]
        : [row.id, 'unreachable', '-', '-', '-', '-', '-', row.error],
    );
    const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => String(line[column]).length)));
    for (const line of [header, ...lines]) process.stdout.write(`${line.map((cell, column) => String(cell).padEnd(widths[column] ?? 0)).join('  ')}\n`);
    process.stdout.write(`\nleader: ${summary.leader ?? 'none'}   writes: ${summary.writable ? 'available' : 'UNAVAILABLE (no quorum)'}   failure tolerance: ${summary.failureTolerance}\n`);
  });
}
