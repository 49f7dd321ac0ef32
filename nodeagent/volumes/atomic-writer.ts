/**
 * Kubernetes' AtomicWriter (pkg/volume/util/atomic_writer.go): a volume's files are written to a
 * fresh timestamped directory `..<timestamp>`, then the `..data` symlink is swapped to it with
 * one rename, so a reader sees either the old set or the new set, never a mix. The user-visible
 * names are symlinks `<name> → ..data/<name>`, so they follow the swap.
 *
 * Decision: a write whose payload equals what `..data` already holds does nothing (refresh is
 * called periodically and must not churn the directory).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface FileProjection {
  readonly data: Buffer;
  readonly mode: number;
}

/** Relative path (may contain `/`) → content. */
export type Payload = ReadonlyMap<string, FileProjection>;

const dataDirName = '..data';
const newDataDirName = '..data_tmp';

/** A path inside the volume: relative, no `..` element, not starting with `..` (reserved). */
export function validPayloadPath(relative: string): boolean {
  if (relative === '' || path.isAbsolute(relative) || relative.startsWith('..')) return false;
  return relative.split('/').every((part) => part !== '' && part !== '..' && part !== '.');
}

/** `..2026_12_03_04_35_00.` as Kubernetes names its timestamped directories. */
function timestampPrefix(now: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `..${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}.`;
}

async function readCurrent(target: string, payload: Payload): Promise<boolean> {
  const dataDir = path.join(target, dataDirName);
  try {
    const existing = await listFiles(dataDir);
    if (existing.length !== payload.size) return false;
    for (const relative of existing) {
      const want = payload.get(relative);
      if (want === undefined) return false;
      const file = path.join(dataDir, relative);
      const [content, stat] = await Promise.all([fs.readFile(file), fs.stat(file)]);
      if (!content.equals(want.data) || (stat.mode & 0o777) !== (want.mode & 0o777)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(path.join(root, prefix), { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...await listFiles(root, relative));
    else out.push(relative);
  }
  return out;
}

/** Writes `payload` into `target` atomically; returns whether anything changed. */
export async function writeAtomically(target: string, payload: Payload, now: Date): Promise<boolean> {
  for (const relative of payload.keys()) {
    if (!validPayloadPath(relative)) throw new Error(`invalid file path ${JSON.stringify(relative)} in volume payload`);
  }
  await fs.mkdir(target, { recursive: true, mode: 0o755 });
  if (await readCurrent(target, payload)) return false;
  const oldTsName = await fs.readlink(path.join(target, dataDirName)).catch(() => null);
  const tsDir = await fs.mkdtemp(path.join(target, timestampPrefix(now)));
  for (const [relative, file] of payload) {
    const destination = path.join(tsDir, relative);
    await fs.mkdir(path.dirname(destination), { recursive: true, mode: 0o755 });
    await fs.writeFile(destination, file.data, { mode: file.mode });
    await fs.chmod(destination, file.mode);
  }
  await fs.chmod(tsDir, 0o755);
  const tmpLink = path.join(target, newDataDirName);
  await fs.rm(tmpLink, { force: true });
  await fs.symlink(path.basename(tsDir), tmpLink);
  await fs.rename(tmpLink, path.join(target, dataDirName));
  await syncUserVisibleLinks(target, payload);
  if (oldTsName !== null && oldTsName !== path.basename(tsDir)) await fs.rm(path.join(target, oldTsName), { recursive: true, force: true });
  await removeStrayTimestampDirs(target, path.basename(tsDir));
  return true;
}

/** Timestamped directories left by a write that failed half-way (the current one stays). */
async function removeStrayTimestampDirs(target: string, current: string): Promise<void> {
  for (const entry of await fs.readdir(target)) {
    if (entry === current || entry === dataDirName || !/^\.\.\d{4}_/.test(entry)) continue;
    await fs.rm(path.join(target, entry), { recursive: true, force: true });
  }
}

/** One symlink per top-level name of the payload; stale ones removed. */
async function syncUserVisibleLinks(target: string, payload: Payload): Promise<void> {
  const wanted = new Set([...payload.keys()].map((relative) => relative.split('/')[0] ?? relative));
  for (const name of wanted) {
    const link = path.join(target, name);
    const current = await fs.readlink(link).catch(() => null);
    const desired = path.join(dataDirName, name);
    if (current === desired) continue;
    await fs.rm(link, { recursive: true, force: true });
    await fs.symlink(desired, link);
  }
  for (const entry of await fs.readdir(target)) {
    if (entry.startsWith('..') || wanted.has(entry)) continue;
    await fs.rm(path.join(target, entry), { recursive: true, force: true });
  }
}
