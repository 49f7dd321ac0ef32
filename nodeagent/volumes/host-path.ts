/**
 * hostPath volumes: the `type` checks the kubelet makes before a pod may use a host path
 * (pkg/volume/hostpath): `DirectoryOrCreate` and `FileOrCreate` create what is missing
 * (a directory 0755, an empty file 0644 whose parent must exist); `Directory`, `File`,
 * `Socket`, `CharDevice`, `BlockDevice` require the path to exist as that kind; an empty type
 * checks nothing.
 */
import { promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import { VolumeSetUpError } from './errors.js';

const kinds: Readonly<Record<string, (stat: Stats) => boolean>> = {
  Directory: (stat) => stat.isDirectory(),
  DirectoryOrCreate: (stat) => stat.isDirectory(),
  File: (stat) => stat.isFile(),
  FileOrCreate: (stat) => stat.isFile(),
  Socket: (stat) => stat.isSocket(),
  CharDevice: (stat) => stat.isCharacterDevice(),
  BlockDevice: (stat) => stat.isBlockDevice(),
};

export async function prepareHostPath(volume: string, hostPath: string, type: string | undefined): Promise<void> {
  if (!path.isAbsolute(hostPath)) throw new VolumeSetUpError(`volume ${volume}: hostPath ${JSON.stringify(hostPath)} is not absolute`, volume);
  const kind = type ?? '';
  if (kind === '') return;
  const check = kinds[kind];
  if (check === undefined) throw new VolumeSetUpError(`volume ${volume}: unknown hostPath type ${JSON.stringify(kind)}`, volume);
  let stat = await fs.stat(hostPath).catch(() => null);
  if (stat === null && kind === 'DirectoryOrCreate') {
    await fs.mkdir(hostPath, { recursive: true, mode: 0o755 });
    stat = await fs.stat(hostPath);
  }
  if (stat === null && kind === 'FileOrCreate') {
    // Kubernetes does not create the parent of a FileOrCreate path: the pod fails until it exists.
    const parent = await fs.stat(path.dirname(hostPath)).catch(() => null);
    if (parent === null || !parent.isDirectory()) throw new VolumeSetUpError(`volume ${volume}: the parent directory of ${hostPath} does not exist (FileOrCreate does not create it)`, volume);
    await fs.writeFile(hostPath, '', { mode: 0o644, flag: 'a' });
    stat = await fs.stat(hostPath);
  }
  if (stat === null) throw new VolumeSetUpError(`volume ${volume}: hostPath ${hostPath} does not exist (type ${kind})`, volume);
  if (!check(stat)) throw new VolumeSetUpError(`volume ${volume}: hostPath ${hostPath} is not a ${kind.replace('OrCreate', '').toLowerCase()}`, volume);
}
