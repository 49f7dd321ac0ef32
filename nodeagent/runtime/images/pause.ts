/**
 * The pause image (`kubus.local/pause:3.10`): the sandbox's first process, which holds the pod's
 * namespaces. A tiny C program compiled static (`FROM scratch` has no libc): it sleeps, reaps
 * children (it is PID 1 of the pod when the process namespace is shared) and exits 0 on
 * SIGTERM/SIGINT so a sandbox stops at once. Kubernetes' own pause does the same.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import type { ImageSpec } from './docker-archive.js';
import { sha256 } from './docker-archive.js';
import { ImageBuildError, ImageBuildToolError } from './errors.js';
import { localImageLimits } from './limits.js';
import { runTool } from './run-tool.js';
import { baseDirectories, imagePath } from './rootfs.js';

export const pauseSource = `/* kubus pause: holds a pod sandbox's namespaces. */
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) { (void)sig; _exit(0); }

static void on_child(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  struct sigaction stop = {0};
  stop.sa_handler = on_stop;
  sigaction(SIGINT, &stop, NULL);
  sigaction(SIGTERM, &stop, NULL);
  struct sigaction child = {0};
  child.sa_handler = on_child;
  child.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  sigaction(SIGCHLD, &child, NULL);
  for (;;) pause();
  return 0;
}
`;

export interface PauseInputs {
  /** The compiler (gcc from PATH by default). */
  readonly gcc: string;
}

const imageName = 'kubus.local/pause:3.10';
const gccInstall = 'apt-get install -y gcc';

/** A key that changes when the source or the compiler does: the cache file's name. */
export async function pauseCacheKey(inputs: PauseInputs): Promise<string> {
  const version = await runTool(inputs.gcc, ['--version'], localImageLimits.probeTimeoutMs);
  if (version.kind === 'missing') throw new ImageBuildToolError(imageName, 'gcc', 'is not installed (needed to compile the pause program)', gccInstall);
  if (version.kind === 'failed') throw new ImageBuildToolError(imageName, 'gcc', `does not run: ${version.detail}`, gccInstall);
  return sha256(`${pauseSource}\n${version.stdout.split('\n')[0] ?? ''}\n${process.arch}`);
}

export async function pauseImageSpec(inputs: PauseInputs, workDir: string): Promise<ImageSpec> {
  const dir = await mkdtemp(join(workDir, 'pause-build-'));
  try {
    const source = join(dir, 'pause.c');
    const binary = join(dir, 'pause');
    await writeFile(source, pauseSource);
    const compiled = await runTool(inputs.gcc, ['-static', '-Os', '-s', '-o', binary, source], localImageLimits.compileTimeoutMs);
    if (compiled.kind === 'missing') throw new ImageBuildToolError(imageName, 'gcc', 'is not installed (needed to compile the pause program)', gccInstall);
    if (compiled.kind === 'failed') {
      // A missing static libc is the usual cause on a minimal host: name its package too.
      throw new ImageBuildError(imageName, 'gcc -static', `${compiled.detail} (static linking needs libc6-dev: \`apt-get install -y gcc libc6-dev\`)`);
    }
    const data = new Uint8Array(await readFile(binary));
    return {
      reference: imageName,
      layer: [...baseDirectories(), { type: 'file', path: imagePath('/pause'), mode: 0o755, data }],
      entrypoint: ['/pause'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      createdBy: 'kubus: gcc -static -Os pause.c',
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
