/**
 * What an exec, attach or port-forward request asks for, and whether the pod allows it: pure
 * functions of the URL and the stored pod, so every refusal is unit-tested without a server.
 *
 * Kubernetes' pre-flight (K8S-STREAMING.md §3, registry/core/pod/strategy.go streamLocation):
 * the container is defaulted when the pod has exactly one, named otherwise; a completed pod is
 * refused (kubectl checks it too); a pod without a node is 400 "does not have a host assigned".
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { apiErrors } from '../../status.js';
import { resolveContainer } from '../pod-logs.js';

export type StreamVerb = 'exec' | 'attach' | 'portforward';

export const streamVerbs: readonly StreamVerb[] = ['exec', 'attach', 'portforward'];

/** The subresource a path names, when it is one of ours: `/api/v1/namespaces/NS/pods/P/<verb>`. */
export interface StreamPath {
  readonly namespace: string;
  readonly name: string;
  readonly verb: StreamVerb;
}

export function parseStreamPath(pathname: string): StreamPath | null {
  const segments = pathname.split('/').filter((s) => s !== '');
  if (segments.length !== 7) return null;
  const [api, version, namespaces, namespace, pods, name, verb] = segments as [string, string, string, string, string, string, string];
  if (api !== 'api' || version !== 'v1' || namespaces !== 'namespaces' || pods !== 'pods') return null;
  if (!(streamVerbs as readonly string[]).includes(verb)) return null;
  try {
    return { namespace: decodeURIComponent(namespace), name: decodeURIComponent(name), verb: verb as StreamVerb };
  } catch {
    return null;
  }
}

/** PodExecOptions / PodAttachOptions as the query gives them. */
export interface ExecOptions {
  readonly container: string | null;
  /** Empty for attach. */
  readonly command: readonly string[];
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

const flag = (query: URLSearchParams, name: string): boolean => ['true', '1'].includes(query.get(name) ?? '');

/** Kubernetes' validation of the options: a command for exec, at least one stream. */
export function parseExecOptions(query: URLSearchParams, verb: 'exec' | 'attach'): ExecOptions {
  const container = query.get('container');
  const options: ExecOptions = {
    container: container === null || container === '' ? null : container,
    command: verb === 'exec' ? query.getAll('command') : [],
    stdin: flag(query, 'stdin'), stdout: flag(query, 'stdout'), stderr: flag(query, 'stderr'), tty: flag(query, 'tty'),
  };
  if (verb === 'exec' && options.command.length === 0) throw apiErrors.badRequest('you must specify at least 1 command');
  if (!options.stdin && !options.stdout && !options.stderr) throw apiErrors.badRequest('you must specify at least 1 of stdin, stdout, stderr');
  return options;
}

export interface StreamTarget {
  readonly node: string;
  /** The container (exec, attach); null for port-forward, which reaches the pod's network. */
  readonly container: string | null;
}

/** Where the stream goes, or the Status Kubernetes answers (400 for each refusal below). */
export function planStream(pod: Pod, verb: StreamVerb, requestedContainer: string | null): StreamTarget {
  const name = pod.metadata?.name ?? '';
  const phase = pod.status?.phase ?? '';
  const container = verb === 'portforward' ? null : resolveContainer(pod, requestedContainer);
  if (phase === 'Succeeded' || phase === 'Failed') {
    switch (verb) {
      case 'exec': throw apiErrors.badRequest(`cannot exec into a container in a completed pod; current phase is ${phase}`);
      case 'attach': throw apiErrors.badRequest(`cannot attach a container in a completed pod; current phase is ${phase}`);
      case 'portforward': throw apiErrors.badRequest(`unable to forward port because pod is not running. Current status=${phase}`);
    }
  }
  const node = pod.spec?.nodeName ?? '';
  if (node === '') throw apiErrors.badRequest(`pod ${name} does not have a host assigned`);
  return { node, container };
}

/**
 * The Status for a client that asked for SPDY (kubectl's fallback, or a WebSocket subprotocol we
 * do not speak): kubus serves these verbs over WebSocket only, and says how kubectl picks it.
 */
export function spdyRefusal(verb: StreamVerb, offered: string): ReturnType<typeof apiErrors.badRequest> {
  const variable = verb === 'portforward' ? 'KUBECTL_PORT_FORWARD_WEBSOCKETS' : 'KUBECTL_REMOTE_COMMAND_WEBSOCKETS';
  const protocol = verb === 'portforward' ? 'SPDY/3.1+portforward.k8s.io' : 'v5.channel.k8s.io';
  return apiErrors.badRequest(
    `kubus serves pods/${verb} over WebSocket (subprotocol ${protocol}) only, not SPDY; this request offered ${offered === '' ? 'no WebSocket subprotocol' : JSON.stringify(offered)}. `
    + `kubectl 1.30 or later uses WebSocket unless ${variable}=false is set: unset it (or upgrade kubectl)`,
  );
}
