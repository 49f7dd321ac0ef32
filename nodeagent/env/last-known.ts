/**
 * What the node last read of the objects its pods reference, kept so pods can start while the
 * control plane is unreachable (issue 11 §6): in memory, and in `<dir>/env/last-known.json` (0600:
 * it holds Secret data, like the kubelet's secret volumes on the node's disk) when a directory is
 * given, so an agent restarted offline still has it.
 *
 * Decision: only used when the API did not answer (isApiAnswer false); a definite answer (404,
 * 403) is never overridden by an old value.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { envLimits } from './limits.js';

type Json = unknown;

export class LastKnown {
  private entries: Map<string, Json> | null = null;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly file: string | null) {}

  private async load(): Promise<Map<string, Json>> {
    if (this.entries !== null) return this.entries;
    let loaded: Record<string, Json> = {};
    if (this.file !== null) {
      try {
        loaded = JSON.parse(await fs.readFile(this.file, 'utf8')) as Record<string, Json>;
      } catch {
        loaded = {};
      }
    }
    this.entries ??= new Map(Object.entries(loaded));
    return this.entries;
  }

  async recall(key: string): Promise<Json | undefined> {
    return (await this.load()).get(key);
  }

  async remember(key: string, value: Json): Promise<void> {
    const entries = await this.load();
    const text = JSON.stringify(value);
    if (entries.has(key) && JSON.stringify(entries.get(key)) === text) return;
    entries.delete(key);
    entries.set(key, value);
    for (const oldest of entries.keys()) {
      if (entries.size <= envLimits.cacheEntriesMax) break;
      entries.delete(oldest);
    }
    if (this.file === null) return;
    const file = this.file;
    // Writes are chained so two of them never interleave; each writes the whole current map.
    this.saving = this.saving.then(async () => {
      await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.tmp`;
      await fs.writeFile(tmp, JSON.stringify(Object.fromEntries(entries)), { mode: 0o600 });
      await fs.rename(tmp, file);
    }).catch(() => undefined);
    await this.saving;
  }
}
