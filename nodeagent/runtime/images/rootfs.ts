/**
 * What every image of ours holds besides its program: the directories a container runtime
 * mounts onto (runc creates missing ones, but a read-only root filesystem cannot) and the
 * account files that `runAsUser` and `id` read.
 */
import type { TarEntry } from './tar-writer.js';

/** A path inside an image, as a layer names it: relative, no leading slash. */
export function imagePath(path: string): string {
  return path.replace(/^\/+/, '');
}

export function baseDirectories(): TarEntry[] {
  return [
    { type: 'directory', path: 'dev', mode: 0o755 },
    { type: 'directory', path: 'etc', mode: 0o755 },
    { type: 'directory', path: 'proc', mode: 0o555 },
    { type: 'directory', path: 'sys', mode: 0o555 },
    { type: 'directory', path: 'tmp', mode: 0o1777 },
  ];
}

const encoder = new TextEncoder();

/** root and nobody, as busybox images ship them. */
export function accountFiles(): TarEntry[] {
  return [
    { type: 'file', path: 'etc/passwd', mode: 0o644, data: encoder.encode('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n') },
    { type: 'file', path: 'etc/group', mode: 0o644, data: encoder.encode('root:x:0:\nnogroup:x:65534:\n') },
    { type: 'directory', path: 'root', mode: 0o700 },
    { type: 'directory', path: 'home', mode: 0o755 },
  ];
}
