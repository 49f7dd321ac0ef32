/**
 * The node's pods on disk (`<dir>/checkpoint.json`): the pod objects assigned to it, each pod's
 * IP, sandbox id, container ids and restart counts, so that an agent restarted (or a host
 * rebooted) while the control plane is unreachable runs its pods again, and keeps their
 * addresses, without asking anyone; the next `sync` from the API then reconciles.
 *
 * Decision: written whole, as temp file + fsync + rename (+ fsync of the directory), so a crash
 * leaves the old or the new file, never a torn one; writes are coalesced (`checkpointCoalesceMs`)
 * because a relist touches every pod at once. A file that does not parse is moved aside with a
 * warning and the agent starts empty: a bad checkpoint must never keep the agent from starting.
 */
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Clock, TimerId } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import { CheckpointTooLargeError } from './errors.js';
import { kubeletLimits } from './limits.js';

export const checkpointFileName = 'checkpoint.json';
const checkpointVersion = 1;

export interface ContainerCheckpoint {
  readonly id: string | null;
  readonly restartCount: number;
}

export interface PodCheckpoint {
  readonly pod: Pod;
  readonly podIp: string | null;
  readonly sandboxId: string | null;
  /** By container name (init containers included). */
  readonly containers: Readonly<Record<string, ContainerCheckpoint>>;
}

export interface Checkpoint {
  readonly version: typeof checkpointVersion;
  readonly nodeName: string;
  readonly pods: readonly PodCheckpoint[];
}

export interface CheckpointStoreOptions {
  readonly dir: string;
  readonly nodeName: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** For the name a corrupt file is moved aside to. */
  readonly wallClock: () => Date;
}

function isCheckpoint(value: unknown): value is Checkpoint {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Checkpoint;
  return candidate.version === checkpointVersion && typeof candidate.nodeName === 'string' && Array.isArray(candidate.pods) &&
    candidate.pods.every((p) => typeof p === 'object' && p !== null && typeof p.pod?.metadata?.uid === 'string' && typeof p.containers === 'object');
}

export class CheckpointStore {
  readonly path: string;
  private timer: TimerId | null = null;
  private snapshot: (() => Checkpoint) | null = null;
  private writing: Promise<void> | null = null;
  private again = false;

  constructor(private readonly options: CheckpointStoreOptions) {
    this.path = join(options.dir, checkpointFileName);
  }

  /** The checkpoint, or null when there is none or it was unreadable (then moved aside, with a warning). */
  async load(): Promise<Checkpoint | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      this.options.logger.warn('checkpoint unreadable; starting without it', { path: this.path, error });
      return null;
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (!isCheckpoint(parsed)) throw new Error(`not a version ${checkpointVersion} checkpoint`);
      if (parsed.nodeName !== this.options.nodeName) throw new Error(`checkpoint of node ${parsed.nodeName}, not ${this.options.nodeName}`);
      return parsed;
    } catch (error) {
      const aside = `${this.path}.corrupt-${this.options.wallClock().toISOString().replace(/[:.]/g, '-')}`;
      this.options.logger.warn('checkpoint corrupt; moved aside, starting without it', { path: this.path, movedTo: aside, error });
      await rename(this.path, aside).catch(() => undefined);
      return null;
    }
  }

  /** Writes the checkpoint `snapshot()` gives, coalesced: the snapshot is taken when the write happens. */
  schedule(snapshot: () => Checkpoint): void {
    this.snapshot = snapshot;
    if (this.timer !== null) return;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, kubeletLimits.checkpointCoalesceMs);
  }

  /** Writes a scheduled checkpoint now (stop, tests); resolves when it is on disk. */
  async flush(): Promise<void> {
    if (this.timer !== null) {
      this.options.clock.clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.writing !== null) {
      this.again = true;
      await this.writing;
      return this.flush();
    }
    const snapshot = this.snapshot;
    if (snapshot === null) return;
    this.snapshot = null;
    this.writing = this.write(snapshot()).catch((error: unknown) => {
      this.options.logger.warn('checkpoint not written', { path: this.path, error });
    }).finally(() => {
      this.writing = null;
    });
    await this.writing;
    if (this.again) {
      this.again = false;
      await this.flush();
    }
  }

  /** Temp + fsync + rename + directory fsync: the old or the new checkpoint survives a crash. */
  async write(checkpoint: Checkpoint): Promise<void> {
    const text = JSON.stringify(checkpoint);
    const bytes = Buffer.byteLength(text);
    if (bytes > kubeletLimits.checkpointBytesMax) throw new CheckpointTooLargeError(bytes, kubeletLimits.checkpointBytesMax);
    const temp = `${this.path}.tmp`;
    const file = await open(temp, 'w', 0o600);
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, this.path);
    const dir = await open(this.options.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
