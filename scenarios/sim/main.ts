/**
 * `npm run sim -- --seeds N [--start S] [--members 3|5]` runs N seeds (half with 3 members and
 * half with 5 unless --members says otherwise); `npm run sim -- --seed S [--members M]` replays
 * one. Every failure prints the one command that replays it. Exit code 1 on any failure.
 */
import { parseArgs } from 'node:util';
import { defaultSeedOptions, runSeed, type SeedResult } from './run-seed.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string' },
    seed: { type: 'string' },
    start: { type: 'string', default: '1' },
    members: { type: 'string' },
    'safety-ms': { type: 'string' },
  },
});

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${flag} must be a whole number, got "${value}"`);
  return parsed;
}

function replayCommand(result: SeedResult): string {
  return `npm run sim -- --seed ${result.seed} --members ${result.members}`;
}

async function main(): Promise<void> {
  const fixedMembers = integer(values.members, '--members');
  const safetyMs = integer(values['safety-ms'], '--safety-ms') ?? defaultSeedOptions.safetyMs;
  const single = integer(values.seed, '--seed');
  if (single !== undefined) {
    const result = await runSeed(single, { ...defaultSeedOptions, safetyMs, members: fixedMembers ?? 3 });
    process.stdout.write(`${JSON.stringify({ seed: result.seed, members: result.members, ok: result.ok, traceHash: result.traceHash, operations: result.operations, succeeded: result.succeeded, faults: result.faults })}\n`);
    if (!result.ok) process.stdout.write(`FAILED: ${result.failure}\n`);
    process.exit(result.ok ? 0 : 1);
  }
  const count = integer(values.seeds, '--seeds') ?? 100;
  const start = integer(values.start, '--start') ?? 1;
  const started = performance.now();
  const failures: SeedResult[] = [];
  let operations = 0;
  for (let seed = start; seed < start + count; seed++) {
    const members = fixedMembers ?? (seed % 2 === 0 ? 5 : 3);
    const result = await runSeed(seed, { ...defaultSeedOptions, safetyMs, members });
    operations += result.operations;
    if (!result.ok) {
      failures.push(result);
      process.stdout.write(`seed ${seed} (${members} members) FAILED: ${result.failure}\n  replay: ${replayCommand(result)}\n`);
    }
    if ((seed - start + 1) % 50 === 0) process.stdout.write(`sim: ${seed - start + 1}/${count} seeds, ${failures.length} failed, ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  process.stdout.write(`sim: ${count} seeds, ${operations} client operations, ${failures.length} failed, ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  process.exit(failures.length === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  process.stderr.write(`sim: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
