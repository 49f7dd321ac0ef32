/**
 * `kubus status`: asks every member for its view and prints one table (or JSON); for a `kubus up`
 * cluster with Nodes, a second table of them (name, Ready, pods, age) read through the API.
 */
import { resolve } from 'node:path';
import type { MemberStatus } from '../../../store/index.js';
import { readClusterFile } from './cluster-file.js';
import { withStoreClient, type StoreConnectionFlags } from './store-connection.js';
import { formatAge, nodeRows, withAdminApi, type NodeRow } from './up-agents.js';

/** Nodes of the cluster in --dir; null when there is no cluster.json (explicit --peers); an error text when the API did not answer. */
async function readNodes(flags: StoreConnectionFlags): Promise<NodeRow[] | string | null> {
  if (flags.peers !== undefined) return null;
  const dir = resolve(flags.dir ?? '.kubus');
  const file = readClusterFile(dir);
  if (file === null) return null;
  try {
    return await withAdminApi(dir, file, (api) => nodeRows(api, Date.now()));
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

function printTable(rows: readonly (readonly unknown[])[]): void {
  const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((line) => String(line[column]).length)));
  for (const line of rows) process.stdout.write(`${line.map((cell, column) => String(cell).padEnd(widths[column] ?? 0)).join('  ')}\n`);
}

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
    const nodes = await readNodes(flags);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ ...summary, members: rows, ...(nodes !== null ? { nodes } : {}) })}\n`);
      return;
    }
    const header = ['MEMBER', 'ROLE', 'LEADER', 'TERM', 'COMMIT', 'APPLIED', 'REVISION', 'REACHABLE'];
    const lines = rows.map((row) =>
      'status' in row
        ? [row.id, row.status.role, row.status.leader ?? '-', row.status.term, row.status.commitIndex, row.status.appliedIndex, row.status.revision, `${row.status.reachable}/${row.status.conf.voters.length}`]
        : [row.id, 'unreachable', '-', '-', '-', '-', '-', row.error],
    );
    printTable([header, ...lines]);
    process.stdout.write(`\nleader: ${summary.leader ?? 'none'}   writes: ${summary.writable ? 'available' : 'UNAVAILABLE (no quorum)'}   failure tolerance: ${summary.failureTolerance}\n`);
    // A cluster without Nodes prints members only, as before agents existed.
    if (typeof nodes === 'string') process.stdout.write(`\nnodes: unavailable (${nodes})\n`);
    else if (nodes !== null && nodes.length > 0) {
      process.stdout.write('\n');
      printTable([['NODE', 'READY', 'PODS', 'AGE'], ...nodes.map((n) => [n.name, n.ready ? 'True' : 'False', n.pods, formatAge(n.ageSeconds)])]);
    }
  });
}
