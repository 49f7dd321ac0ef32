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
import { accessSync, constants, statSync } from 'node:fs';
import { request } from 'node:http';
import { delimiter, join } from 'node:path';
import type { RuntimeName } from '../../../nodeagent/runtime/index.js';

export const upRuntimeLimits = {
  /** The engine's `/_ping` answers in milliseconds; a daemon that takes longer is not one to run pods on. */
  dockerPingTimeoutMs: 2_000,
} as const;

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
