/**
 * A command the container's init could not exec. With `Init: true` the engine starts its init
 * (tini), which then fails to exec a missing or non-executable command: the engine sees a
 * container that started and exited 127 (126), the same as a shell whose command was not found.
 * Only the init's last words on stderr (`[FATAL tini (7)] exec /x failed: No such file or
 * directory`) tell them apart, so for such exits the runtime reads the log's last lines once and
 * reports ContainerCannotRun with that message, as the kubelet does for Docker.
 */
import { FrameDemuxer } from './frame-demuxer.js';
import { dockerLimits as limits } from './limits.js';
import { withTimeout, type Engine } from './timeout.js';

/** Exit codes of a command that could not be run (not found, not executable). */
export const cannotRunExitCodes: ReadonlySet<number> = new Set([126, 127]);

const tiniFatal = /\[FATAL tini \(\d+\)\] (exec .* failed: .*)$/m;

/** The init's complaint in some stderr text, or null. */
export function initFailureOf(stderr: string): string | null {
  return tiniFatal.exec(stderr)?.[1]?.trim() ?? null;
}

/** Lines of the engine's log read to find it: the complaint is the init's only output. */
const tailLines = 5;

export async function readInitFailure(engine: Engine, containerId: string, tty: boolean): Promise<string | null> {
  const raw = await withTimeout(engine.clock, engine.docker.getContainer(containerId).logs({ stdout: tty, stderr: true, follow: false, tail: tailLines }), limits.requestTimeoutMs, `logs of ${containerId}`);
  if (tty) return initFailureOf(raw.toString('utf8'));
  let stderr = '';
  new FrameDemuxer().push(raw, (stream, payload) => {
    if (stream === 'stderr') stderr += payload.toString('utf8');
  });
  return initFailureOf(stderr);
}

/** The verdicts per exited container (they never change), bounded like the inspect cache. */
export class InitFailures {
  private readonly verdicts = new Map<string, string | null>();

  constructor(private readonly engine: Engine) {}

  async of(info: { readonly Id: string; readonly State: { readonly Running: boolean; readonly Status: string; readonly ExitCode: number }; readonly Config: { readonly Tty: boolean } }): Promise<string | null> {
    if (info.State.Status !== 'exited' || !cannotRunExitCodes.has(info.State.ExitCode)) return null;
    const known = this.verdicts.get(info.Id);
    if (known !== undefined) return known;
    const verdict = await readInitFailure(this.engine, info.Id, info.Config.Tty).catch(() => null);
    if (this.verdicts.size >= limits.containersMax) {
      const oldest = this.verdicts.keys().next().value;
      if (oldest !== undefined) this.verdicts.delete(oldest);
    }
    this.verdicts.set(info.Id, verdict);
    return verdict;
  }

  drop(containerId: string): void {
    this.verdicts.delete(containerId);
  }
}
