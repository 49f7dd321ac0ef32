/**
 * What a process container sees of its volumes and environment. There is no mount namespace
 * (that needs privileges the agent may not have), so each mount is offered twice:
 *
 * - as a symlink at its container path inside the container's own working directory
 *   (`/etc/config` → `<workdir>/etc/config`), for apps that use relative paths;
 * - as the variable `KUBUS_MOUNT_<PATH>` = host path, PATH being the mount path upper-cased with
 *   every other character `_` (`/etc/config` → `KUBUS_MOUNT_ETC_CONFIG`), unless the container
 *   sets that name itself.
 *
 * The environment is otherwise exactly the container's (`ContainerConfig.env`), plus the
 * agent's PATH when it sets none, so `node` and `sh` resolve as on the host, and PWD, which the
 * `sh` that starts the container exports (as any shell entrypoint would).
 */
import { existsSync, mkdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ContainerConfig } from '../types.js';

export function mountVariableName(containerPath: string): string {
  return `KUBUS_MOUNT_${containerPath.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_+|_+$/g, '')}`;
}

export function containerEnvironment(config: Pick<ContainerConfig, 'env' | 'mounts'>, agentPath: string | undefined): Map<string, string> {
  const result = new Map(config.env.map(({ name, value }) => [name, value]));
  if (!result.has('PATH')) result.set('PATH', agentPath ?? '/usr/local/bin:/usr/bin:/bin');
  for (const mount of config.mounts) {
    const name = mountVariableName(mount.containerPath);
    if (!result.has(name)) result.set(name, mount.hostPath);
  }
  return result;
}

/** Links each mount at its container path inside the working directory. */
export function linkMounts(workingDir: string, mounts: ContainerConfig['mounts']): void {
  for (const mount of mounts) {
    const relative = mount.containerPath.replace(/^\/+/, '');
    if (relative === '' || relative.split('/').includes('..')) continue;
    const link = join(workingDir, relative);
    mkdirSync(dirname(link), { recursive: true });
    if (existsSync(link)) unlinkSync(link);
    symlinkSync(mount.hostPath, link);
  }
}
