/**
 * The busybox image (`kubus.local/busybox:1.35`): the host's static busybox (Debian's
 * busybox-static) as `/bin/busybox`, with a symbolic link per applet where `busybox --list-full`
 * puts it (what `busybox --install -s` does), `Cmd ["sh"]`. Enough for the README's examples:
 * `sh`, `httpd`, `tar` (kubectl cp), `cat`, `sleep`, `wget`.
 */
import { open, readFile } from 'node:fs/promises';
import type { ImageSpec } from './docker-archive.js';
import { sha256 } from './docker-archive.js';
import { ImageBuildToolError } from './errors.js';
import { localImageLimits } from './limits.js';
import { runTool } from './run-tool.js';
import { accountFiles, baseDirectories } from './rootfs.js';
import type { TarEntry } from './tar-writer.js';

const imageName = 'kubus.local/busybox:1.35';
const busyboxInstall = 'apt-get install -y busybox-static';
/** Where Debian's busybox-static puts it (and the merged-/usr alias). */
export const busyboxCandidates = ['/bin/busybox', '/usr/bin/busybox'] as const;

export interface BusyboxInputs {
  /** The binary to use; absent: the first of `busyboxCandidates` that exists. */
  readonly busybox?: string;
}

export interface BusyboxBinary {
  readonly path: string;
  readonly data: Uint8Array;
  readonly applets: readonly string[];
}

export async function readBusybox(inputs: BusyboxInputs): Promise<BusyboxBinary> {
  const path = inputs.busybox ?? (await firstExisting(busyboxCandidates));
  if (path === null) throw new ImageBuildToolError(imageName, 'busybox', `is not installed (looked at ${busyboxCandidates.join(', ')})`, busyboxInstall);
  const data = new Uint8Array(await readFile(path));
  if (data.length > localImageLimits.layerFileBytesMax) throw new ImageBuildToolError(imageName, path, `is ${data.length} bytes, not a busybox binary`, busyboxInstall);
  const linkage = elfLinkage(data);
  if (linkage !== 'static') {
    const detail = linkage === 'dynamic' ? 'is dynamically linked (an image FROM scratch has no libc)' : 'is not an ELF executable';
    throw new ImageBuildToolError(imageName, path, detail, busyboxInstall);
  }
  const listed = await runTool(path, ['--list-full'], localImageLimits.probeTimeoutMs);
  if (listed.kind !== 'ok') throw new ImageBuildToolError(imageName, path, `cannot list its applets: ${listed.kind === 'failed' ? listed.detail : 'not found'}`, busyboxInstall);
  const applets = parseAppletList(listed.stdout);
  return { path, data, applets };
}

/** `busybox --list-full` lines (`usr/bin/tar`) → safe relative paths, sorted, without busybox itself. */
export function parseAppletList(output: string): string[] {
  const paths = new Set<string>();
  for (const line of output.split('\n')) {
    const path = line.trim().replace(/^\/+/, '');
    if (path === '' || path === 'bin/busybox') continue;
    if (!/^[A-Za-z0-9._+\-[\]/]+$/.test(path) || path.split('/').some((part) => part === '' || part === '.' || part === '..')) continue;
    paths.add(path);
  }
  const sorted = [...paths].sort();
  if (sorted.length > localImageLimits.appletsMax) throw new ImageBuildToolError(imageName, 'busybox --list-full', `listed ${sorted.length} applets, more than ${localImageLimits.appletsMax}`, busyboxInstall);
  return sorted;
}

export function busyboxCacheKey(binary: BusyboxBinary): string {
  return sha256(`${sha256(binary.data)}\n${binary.applets.join('\n')}`);
}

export function busyboxImageSpec(binary: BusyboxBinary): ImageSpec {
  const directories = new Set<string>(['bin']);
  for (const applet of binary.applets) {
    const parts = applet.split('/');
    for (let i = 1; i < parts.length; i += 1) directories.add(parts.slice(0, i).join('/'));
  }
  const layer: TarEntry[] = [...baseDirectories(), ...accountFiles()];
  for (const directory of [...directories].sort()) layer.push({ type: 'directory', path: directory, mode: 0o755 });
  layer.push({ type: 'file', path: 'bin/busybox', mode: 0o755, data: binary.data });
  for (const applet of binary.applets) layer.push({ type: 'symlink', path: applet, target: '/bin/busybox' });
  return {
    reference: imageName,
    layer,
    cmd: ['sh'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    createdBy: 'kubus: busybox-static with busybox --install -s',
  };
}

/** Whether an ELF file asks for a program interpreter (PT_INTERP: dynamic) or not (static). */
export function elfLinkage(data: Uint8Array): 'static' | 'dynamic' | 'notElf' {
  if (data.length < 52 || data[0] !== 0x7f || data[1] !== 0x45 || data[2] !== 0x4c || data[3] !== 0x46) return 'notElf';
  const is64 = data[4] === 2;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const little = data[5] === 1;
  const phoff = is64 ? Number(view.getBigUint64(0x20, little)) : view.getUint32(0x1c, little);
  const phentsize = view.getUint16(is64 ? 0x36 : 0x2a, little);
  const phnum = view.getUint16(is64 ? 0x38 : 0x2c, little);
  const programInterpreter = 3;
  for (let i = 0; i < phnum; i += 1) {
    const at = phoff + i * phentsize;
    if (at + 4 > data.length) return 'notElf';
    if (view.getUint32(at, little) === programInterpreter) return 'dynamic';
  }
  return 'static';
}

async function firstExisting(paths: readonly string[]): Promise<string | null> {
  for (const path of paths) {
    try {
      const handle = await open(path, 'r');
      await handle.close();
      return path;
    } catch {
      // try the next one
    }
  }
  return null;
}
