#!/usr/bin/env node
/**
 * The `kubus` command: declarations only (names, flags, help); each action lives in
 * commands/<name>.ts. commander parses: it is the most used Node CLI parser, maintained, typed,
 * with subcommands and generated help, and no dependencies of its own.
 */
import { Command, Option } from 'commander';
import { defaultRaftTiming } from '../../store/index.js';
import { runServerCommand } from './commands/server.js';
import { runStatusCommand } from './commands/status.js';
import { runMemberCommand } from './commands/member.js';
import { runKvCommand } from './commands/kv.js';

const program = new Command('kubus').description('kubus: a Kubernetes-style orchestrator on a Raft-replicated LMDB store').showHelpAfterError();

const natsOption = () => new Option('--nats <urls>', 'NATS server URL(s), comma-separated').default('nats://127.0.0.1:4222');
const clusterOption = () => new Option('--cluster <name>', 'cluster name: the subject prefix kubus.<name>.').default('kubus');
const peersOption = () => new Option('--peers <ids>', 'store members, comma-separated, e.g. s1,s2,s3').makeOptionMandatory();

program
  .command('server')
  .description('run one control-plane member (the store member; the API server joins it later)')
  .requiredOption('--id <id>', 'this member\'s id, one of --peers')
  .requiredOption('--data-dir <dir>', 'where this member keeps its LMDB files')
  .addOption(natsOption())
  .addOption(clusterOption())
  .addOption(peersOption())
  .option('--nats-user <user>', 'NATS user name')
  .option('--nats-pass <pass>', 'NATS password')
  .option('--tick-ms <ms>', 'Raft tick length', String(defaultRaftTiming.tickMs))
  .option('--election-ticks <n>', 'election timeout in ticks (randomized up to twice this)', String(defaultRaftTiming.electionTicks))
  .option('--heartbeat-ticks <n>', 'heartbeat interval in ticks', String(defaultRaftTiming.heartbeatTicks))
  .option('--map-size-mb <mb>', 'LMDB map size: the most the store may grow to', '4096')
  .option('--log-level <level>', 'debug, info, warn or error', 'info')
  .action(runServerCommand);

program
  .command('status')
  .description('show every store member: role, leader, term, commit and applied index, revision, failure tolerance')
  .addOption(natsOption())
  .addOption(clusterOption())
  .addOption(peersOption())
  .option('--json', 'print JSON')
  .action(runStatusCommand);

program
  .command('member')
  .description('change store membership, one change at a time: add (as learner), promote, remove')
  .argument('<action>', 'add | promote | remove | transfer-leadership')
  .argument('<id>', 'the member to change')
  .addOption(natsOption())
  .addOption(clusterOption())
  .addOption(peersOption())
  .action(runMemberCommand);

program
  .command('kv')
  .description('read and write store keys directly (for operators and debugging)')
  .argument('<action>', 'get | put | del | list')
  .argument('<key>', 'the key (for list: the prefix)')
  .argument('[value]', 'the value, for put')
  .addOption(natsOption())
  .addOption(clusterOption())
  .addOption(peersOption())
  .option('--serializable', 'read from any member without a quorum round (may be stale)')
  .action(runKvCommand);

program.parseAsync(process.argv).catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`kubus: ${message}\n`);
  process.exit(1);
});
