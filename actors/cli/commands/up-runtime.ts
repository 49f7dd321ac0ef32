/**
 * Which container runtime `kubus up` gives its agents when `--runtime` is not given (issue 13
 * §1): cri when containerd is here (a socket or the binary: each agent then starts a private
 * containerd, which needs the CNI plugins), else docker when an engine answers on its socket,
 * else process; both container runtimes need gcc for the locally built pause image. `up` prints
 * the choice with its reason, so a user who expected containers knows what to install.
 *
 * Decision: the choice is a pure function of a probe (`chooseUpRuntime`); only `probeRuntimes`
 * touches the machine (file checks and one bounded `/_ping` to the engine).
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { request } from 'node:http';
import { delimiter, join } from 'node:path';
import type { RuntimeName } from '../../../nodeagent/runtime/index.js';
import { busyboxCandidates, elfLinkage } from '../../../nodeagent/runtime/images/index.js';
import { KubusError } from '../../../bus/errors.js';

export const upRuntimeLimits = {
  /** The engine's `/_ping` answers in milliseconds; a daemon that takes longer is not one to run pods on. */
  dockerPingTimeoutMs: 2_000,
  /** dockerd started by `up` answers in ≈0.3 s here; 60 s covers a cold, loaded host (as .ci/run). */
  dockerdStartMs: 60_000,
  /** Between two pings while dockerd starts. */
  dockerdPollMs: 200,
} as const;

/** A runtime asked for with `--runtime` cannot be made ready here; says what to run. */
export class UpRuntimeError extends KubusError {
  override readonly name = 'UpRuntimeError';
  readonly code = 'upRuntime';
}

/** Where containerd's socket usually is (Debian's containerd service; k3s's own). */
export const containerdSockets = ['/run/containerd/containerd.sock', '/run/k3s/containerd/containerd.sock'] as const;
export const dockerSocketDefault = '/var/run/docker.sock';
/** Where Debian's containernetworking-plugins puts them (the cri runtime's CNI bin_dir). */
export const cniPluginDirectory = '/usr/lib/cni';

export interface RuntimeProbe {
  /** A containerd socket found, or null. */
  readonly containerdSocket: string | null;
  /** The containerd binary found on PATH (or /usr/bin), or null. */
  readonly containerdBinary: string | null;
  /** The Docker Engine's socket when it answered `/_ping`, or null. */
  readonly dockerEngine: string | null;
  /** The CNI plugins a private containerd's pod network needs (bridge, host-local in /usr/lib/cni). */
  readonly cniPlugins: boolean;
  /** A C compiler: both container runtimes run every pod's sandbox from the pause image, compiled locally (no registry). */
  readonly compiler: boolean;
  /** The Docker Engine's daemon binary (installed, maybe not running), or null. */
  readonly dockerd: string | null;
  /** A static busybox for the `kubus.local/busybox` image (pods of other images run without it). */
  readonly staticBusybox: boolean;
}

export interface RuntimeChoice {
  readonly runtime: RuntimeName;
  readonly reason: string;
  /** With cri and no containerd binary: the host's containerd socket the agents use (`--cri-socket`). */
  readonly criSocket?: string;
}

export function chooseUpRuntime(probe: RuntimeProbe): RuntimeChoice {
  // What keeps a present runtime from running pods here, said so the user can install it.
  const missing: string[] = [];
  if (!probe.compiler) missing.push('gcc (the pause image every pod sandbox runs is compiled locally: apt-get install -y gcc libc6-dev)');
  if (probe.compiler && probe.containerdBinary !== null && probe.cniPlugins) {
    return { runtime: 'cri', reason: `containerd is installed (${probe.containerdBinary}): each agent runs its pods in a private containerd over CRI` };
  }
  if (probe.compiler && probe.containerdSocket !== null && probe.containerdBinary === null) {
    return { runtime: 'cri', reason: `a containerd answers on ${probe.containerdSocket}: the agents run their pods in it over CRI`, criSocket: probe.containerdSocket };
  }
  if (probe.containerdBinary !== null && !probe.cniPlugins) missing.push('the CNI plugins for containerd\'s pod network (apt-get install -y containernetworking-plugins)');
  const unusable = missing.length > 0 ? `; not usable here without ${missing.join(' and ')}` : '';
  if (probe.compiler && probe.dockerEngine !== null) {
    return { runtime: 'docker', reason: `${probe.containerdBinary === null ? 'no containerd here' : 'containerd is installed'}${unusable}; a Docker Engine answers on ${probe.dockerEngine}: pods run as Docker containers` };
  }
  if (probe.containerdBinary !== null || probe.containerdSocket !== null || probe.dockerEngine !== null) {
    return { runtime: 'process', reason: `a container runtime is here${unusable}: pods run as host processes` };
  }
  return {
    runtime: 'process',
    reason: 'no containerd and no Docker Engine here: pods run as host processes (images are not used; for containers: apt-get install -y containerd containernetworking-plugins gcc)',
  };
}

export async function probeRuntimes(env: NodeJS.ProcessEnv = process.env): Promise<RuntimeProbe> {
  const dockerSocket = dockerSocketFromEnv(env);
  return {
    containerdSocket: containerdSockets.find(isSocket) ?? null,
    containerdBinary: findExecutable('containerd', env.PATH ?? ''),
    dockerEngine: (await pingDocker(dockerSocket)) ? dockerSocket : null,
    cniPlugins: ['bridge', 'host-local'].every((plugin) => isExecutable(join(cniPluginDirectory, plugin))),
    compiler: findExecutable('gcc', env.PATH ?? '') !== null,
    dockerd: findExecutable('dockerd', env.PATH ?? ''),
    staticBusybox: busyboxCandidates.some((path) => {
      try {
        return elfLinkage(new Uint8Array(readFileSync(path))) === 'static';
      } catch {
        return false;
      }
    }),
  };
}

/** DOCKER_HOST when it names a unix socket, else the default socket. */
export function dockerSocketFromEnv(env: NodeJS.ProcessEnv): string {
  const host = env.DOCKER_HOST;
  return host !== undefined && host.startsWith('unix://') ? host.slice('unix://'.length) : dockerSocketDefault;
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function findExecutable(name: string, path: string): string | null {
  for (const dir of [...path.split(delimiter).filter((d) => d !== ''), '/usr/bin', '/usr/local/bin']) {
    if (isExecutable(join(dir, name))) return join(dir, name);
  }
  return null;
}

function pingDocker(socketPath: string): Promise<boolean> {
  if (!isSocket(socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: upRuntimeLimits.dockerPingTimeoutMs }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

/**
 * Per-agent runtime flags of a local cluster. With cri and private containerds, agent i's gets
 * its own bridge subnet 10.88.<i>.0/24 (an agent derives one from its directory otherwise, and
 * two local agents must never share one: their bridges would hand out the same addresses); with
 * a shared host containerd, its socket.
 */
export function agentRuntimeArgs(index: number, choice: Pick<RuntimeChoice, 'runtime' | 'criSocket'>): string[] {
  if (choice.runtime !== 'cri') return [];
  if (choice.criSocket !== undefined) return ['--cri-socket', choice.criSocket];
  return ['--cri-pod-subnet', `10.88.${index}.0/24`];
}

/** Debian packages a container runtime needs on this host, from what the probe lacks (pure). */
export function missingRuntimePackages(runtime: RuntimeName, probe: RuntimeProbe): string[] {
  if (runtime !== 'cri' && runtime !== 'docker') return [];
  const packages: string[] = [];
  if (runtime === 'cri' && probe.containerdBinary === null && probe.containerdSocket === null) packages.push('containerd');
  if (runtime === 'cri' && !probe.cniPlugins) packages.push('containernetworking-plugins');
  if (runtime === 'docker' && probe.dockerEngine === null && probe.dockerd === null) packages.push('docker.io');
  if (!probe.compiler) packages.push('gcc', 'libc6-dev');
  if (!probe.staticBusybox) packages.push('busybox-static');
  return packages;
}

/**
 * `kubus up --runtime cri|docker`: makes the runtime usable as `npm test` does. As root, missing
 * packages are installed with apt-get and dockerd is started in the background when no engine
 * answers (it outlives `up`, as a system service would); without root, a missing piece is an
 * error naming the command (a missing busybox only a warning: pods of other images still run).
 */
export async function ensureRuntimeReady(runtime: RuntimeName, options: { readonly logDirectory: string; readonly say: (line: string) => void }): Promise<void> {
  if (runtime !== 'cri' && runtime !== 'docker') return;
  const root = process.getuid?.() === 0;
  let probe = await probeRuntimes();
  let packages = missingRuntimePackages(runtime, probe);
  if (packages.length > 0 && root) {
    options.say(`installing ${packages.join(' ')} for the ${runtime} runtime (apt-get)`);
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    spawnSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    probe = await probeRuntimes();
    packages = missingRuntimePackages(runtime, probe);
  }
  const essential = packages.filter((name) => name !== 'busybox-static');
  if (essential.length > 0) throw new UpRuntimeError(`--runtime ${runtime} needs ${packages.join(', ')} on this host: ${root ? '' : 'sudo '}apt-get install -y ${packages.join(' ')}`);
  if (packages.length > 0) options.say(`busybox-static is not installed: the kubus.local/busybox image cannot be built (apt-get install -y busybox-static)`);
  if (runtime === 'docker' && probe.dockerEngine === null) await startDockerd(probe, root, options);
}

async function startDockerd(probe: RuntimeProbe, root: boolean, options: { readonly logDirectory: string; readonly say: (line: string) => void }): Promise<void> {
  const socket = dockerSocketFromEnv(process.env);
  if (!root || probe.dockerd === null) throw new UpRuntimeError(`no Docker Engine answers on ${socket}; start it (as root): dockerd & (or systemctl start docker)`);
  const log = join(options.logDirectory, 'dockerd.log');
  options.say(`no Docker Engine answers on ${socket}: starting dockerd in the background, log ${log}`);
  const out = openSync(log, 'a');
  try {
    spawn(probe.dockerd, [], { detached: true, stdio: ['ignore', out, out] }).unref();
  } finally {
    closeSync(out);
  }
  const deadline = Date.now() + upRuntimeLimits.dockerdStartMs;
  while (Date.now() < deadline) {
    if (await pingDocker(socket)) return;
    await new Promise((resolve) => setTimeout(resolve, upRuntimeLimits.dockerdPollMs));
  }
  throw new UpRuntimeError(`dockerd did not answer on ${socket} within ${upRuntimeLimits.dockerdStartMs / 1000} s; see ${log}`);
}
