/**
 * Integration suites need real components. Outside CI a missing one skips the suite with the
 * command that installs it; in CI (CI=true) a missing component fails the suite loudly, because a
 * green run that tested nothing is worse than a red one.
 */
import { execFileSync } from 'node:child_process';

export function hasBinary(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name} || test -x /usr/sbin/${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when the suite should run; throws in CI when the component is missing. */
export function requireComponent(binary: string, install: string): boolean {
  if (hasBinary(binary)) return true;
  if (process.env['CI'] === 'true') throw new Error(`${binary} is required in CI but was not found; install it: ${install}`);
  process.stderr.write(`skipping: ${binary} not found (install: ${install})\n`);
  return false;
}
