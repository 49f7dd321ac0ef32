/**
 * `npm run sim -- --seeds N [--start S] [--members 1|3|5]` runs N seeds; each seed draws its
 * topology (one, three or five voters, spares that may join, leases or not) unless --members
 * fixes the voters. `npm run sim -- --seed S [--members M]` replays one. Every failure prints the
 * one command that replays it. Exit code 1 on any failure.
 *
 * `--bug ackWithoutApply|staleRead|throwingReads|refusedReads` runs a deliberately broken client: the seeds must
 * fail (the tests of the checkers use it).
 */
import { parseArgs } from 'node:util';
import { defaultSeedOptions, runSeed, type SeedOptions, type SeedResult } from './run-seed.js';
import type { InjectedBug } from './workload.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    seed: { type: 'string' },
    start: { type: 'string', default: '1' },
    members: { type: 'string' },
    'safety-ms': { type: 'string' },
    bug: { type: 'string' },
  },
});

const bugs: readonly InjectedBug[] = ['ackWithoutApply', 'staleRead', 'throwingReads', 'refusedReads'];

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${flag} must be a whole number, got "${value}"`);
  return parsed;
}

function replayCommand(result: SeedResult, options: SeedOptions, fixedMembers: number | undefined): string {
  const members = fixedMembers === undefined ? '' : ` --members ${fixedMembers}`;
  const safety = options.safetyMs === defaultSeedOptions.safetyMs ? '' : ` --safety-ms ${options.safetyMs}`;
  const bug = options.bug === undefined ? '' : ` --bug ${options.bug}`;
  return `npm run sim -- --seed ${result.seed}${members}${safety}${bug}`;
}

async function main(): Promise<void> {
  const fixedMembers = integer(values.members, '--members');
  if (fixedMembers !== undefined && fixedMembers < 1) throw new Error('--members must be at least 1');
  const safetyMs = integer(values['safety-ms'], '--safety-ms') ?? defaultSeedOptions.safetyMs;
  const bug = values.bug as InjectedBug | undefined;
  if (bug !== undefined && !bugs.includes(bug)) throw new Error(`--bug must be one of ${bugs.join(', ')}`);
  const options: SeedOptions = {
    ...defaultSeedOptions, safetyMs,
    ...(fixedMembers !== undefined ? { members: fixedMembers } : {}),
    ...(bug !== undefined ? { bug } : {}),
  };
  const single = integer(values.seed, '--seed');
  if (single !== undefined) {
    const result = await runSeed(single, options);
    const { seed, members, ok, traceHash, operations, succeeded, faults, plan, simulatedMs } = result;
    process.stdout.write(`${JSON.stringify({ seed, members, plan, ok, traceHash, operations, succeeded, faults, simulatedMs })}\n`);
    if (!result.ok) process.stdout.write(`FAILED: ${result.failure}\n  replay: ${replayCommand(result, options, fixedMembers)}\n`);
    process.exit(result.ok ? 0 : 1);
  }
  const count = integer(values.seeds, '--seeds') ?? 100;
  const start = integer(values.start, '--start') ?? 1;
  const started = performance.now();
  const failures: SeedResult[] = [];
  let operations = 0;
  for (let seed = start; seed < start + count; seed++) {
    const result = await runSeed(seed, options);
    operations += result.operations;
    if (!result.ok) {
      failures.push(result);
      process.stdout.write(`seed ${seed} (${result.members} voters, ${result.plan}) FAILED: ${result.failure}\n  replay: ${replayCommand(result, options, fixedMembers)}\n`);
    }
    if ((seed - start + 1) % 50 === 0) process.stdout.write(`sim: ${seed - start + 1}/${count} seeds, ${failures.length} failed, ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  process.stdout.write(`sim: ${count} seeds, ${operations} client operations, ${failures.length} failed${failures.length > 0 ? ` (seeds ${failures.map((f) => f.seed).join(' ')})` : ''}, ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  process.exit(failures.length === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  process.stderr.write(`sim: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
