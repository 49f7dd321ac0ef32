/**
 * The flags of the leader-elected components, shared by `kubus server` (which runs them in the
 * member), `kubus controller-manager` and `kubus scheduler`: leader election timing as Kubernetes
 * spells it, `--controllers`, and each controller flag of runtime/controller-flags.ts.
 */
import { Option, type Command } from 'commander';
import { camelCase, controllerFlags, controllerOptions, parseDurationMs } from '../../controllers/runtime/controller-flags.js';
import { checkLeaderElectionTiming, type LeaderElectionTiming } from '../../controllers/runtime/leader-election.js';

export interface ControlPlaneFlags {
  readonly leaderElectLeaseDuration: string;
  readonly leaderElectRenewDeadline: string;
  readonly leaderElectRetryPeriod: string;
  readonly controllers?: string;
  readonly controllerFlag?: readonly string[];
  readonly [flag: string]: unknown;
}

export function addLeaderElectionOptions(command: Command): Command {
  return command
    .option('--leader-elect-lease-duration <duration>', 'how long a candidate waits after the leader\'s last renew before taking its Lease', '15s')
    .option('--leader-elect-renew-deadline <duration>', 'how long the leader keeps trying to renew before it stops its loops (less than the lease duration)', '10s')
    .option('--leader-elect-retry-period <duration>', 'how often candidates try and the leader renews', '2s');
}

export function addControllerOptions(command: Command): Command {
  command.option('--controllers <list>', 'controllers to run: * (all), name, -name (not name), comma-separated', '*');
  for (const flag of controllerFlags) command.addOption(new Option(`--${flag.name} <value>`, flag.defaultValue === '' ? flag.description : `${flag.description} (default ${flag.defaultValue})`));
  return command.option('--controller-flag <name=value>', 'any other controller flag, passed to the loops as ctx.options (repeatable)', (value: string, previous: string[] = []) => [...previous, value]);
}

export function leaderElectionTiming(flags: ControlPlaneFlags): LeaderElectionTiming {
  const timing = {
    leaseDurationMs: parseDurationMs(flags.leaderElectLeaseDuration, 'leader-elect-lease-duration'),
    renewDeadlineMs: parseDurationMs(flags.leaderElectRenewDeadline, 'leader-elect-renew-deadline'),
    retryPeriodMs: parseDurationMs(flags.leaderElectRetryPeriod, 'leader-elect-retry-period'),
  };
  checkLeaderElectionTiming(timing);
  return timing;
}

/** ctx.options: the controller flags given (camelCase, durations also as `<name>Ms`) and the leader-election ones. */
export function loopOptions(flags: ControlPlaneFlags, timing: LeaderElectionTiming): Record<string, string | number | boolean | undefined> {
  const given: Record<string, string | undefined> = {};
  for (const flag of controllerFlags) {
    const value = flags[camelCase(flag.name)];
    if (typeof value === 'string') given[camelCase(flag.name)] = value;
  }
  return {
    ...controllerOptions(given, flags.controllerFlag ?? []),
    leaderElectLeaseDurationMs: timing.leaseDurationMs,
    leaderElectRenewDeadlineMs: timing.renewDeadlineMs,
    leaderElectRetryPeriodMs: timing.retryPeriodMs,
  };
}
