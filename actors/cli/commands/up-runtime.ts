/**
 * Which container runtime `kubus up` gives its agents when `--runtime` is not given (issue 13
 * §1): cri when containerd is here (a socket or the binary: each agent then starts a private
 * containerd), else docker when an engine answers on its socket, else process; `up` prints the
 * choice with its reason, so a user who expected containers knows what to install.
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

export interface RuntimeProbe {
  /** A containerd socket found, or null. */
  readonly containerdSocket: string | null;
  /** The containerd binary found on PATH (or /usr/bin), or null. */
  readonly containerdBinary: string | null;
  /** The Docker Engine's socket when it answered `/_ping`, or null. */
  readonly dockerEngine: string | null;
}

export interface RuntimeChoice {
  readonly runtime: RuntimeName;
  readonly reason: string;
  /** With cri and no containerd binary: the host's containerd socket the agents use (`--cri-socket`). */
  readonly criSocket?: string;
}

export function chooseUpRuntime(probe: RuntimeProbe): RuntimeChoice {
  if (probe.containerdBinary !== null) {
    return { runtime: 'cri', reason: `containerd is installed (${probe.containerdBinary}): each agent runs its pods in a private containerd over CRI` };
  }
  if (probe.containerdSocket !== null) {
    return { runtime: 'cri', reason: `a containerd answers on ${probe.containerdSocket}: the agents run their pods in it over CRI`, criSocket: probe.containerdSocket };
  }
  if (probe.dockerEngine !== null) {
    return { runtime: 'docker', reason: `no containerd here; a Docker Engine answers on ${probe.dockerEngine}: pods run as Docker containers` };
  }
  return {
    runtime: 'process',
    reason: 'no containerd and no Docker Engine here: pods run as host processes (images are not used; for containers: apt-get install -y containerd containernetworking-plugins)',
  };
}

export async function probeRuntimes(env: NodeJS.ProcessEnv = process.env): Promise<RuntimeProbe> {
  const dockerSocket = dockerSocketFromEnv(env);
  return {
    containerdSocket: containerdSockets.find(isSocket) ?? null,
    containerdBinary: findExecutable('containerd', env.PATH ?? ''),
    dockerEngine: (await pingDocker(dockerSocket)) ? dockerSocket : null,
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

function findExecutable(name: string, path: string): string | null {
  for (const dir of [...path.split(delimiter).filter((d) => d !== ''), '/usr/bin', '/usr/local/bin']) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
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
