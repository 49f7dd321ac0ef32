/**
 * Where container logs live on a node, the kubelet's layout under the agent's `--dir`:
 * `<dir>/pods/<namespace>_<name>_<uid>/<container>/<attempt>.log` (CRI format, see
 * runtime/types.ts), rotated files beside it as `<attempt>.log.1` … Every part that writes or
 * reads logs (runtimes, pod workers, the rpc log reader, garbage collection) uses these functions.
 *
 * Decision: the path is derived from the pod's identity and the restart count, so the API server
 * can ask for "the current" or "the previous" instance of a container with nothing but the pod
 * object, and logs survive an agent restart without any index.
 */
import { join } from 'node:path';

export function podDirectory(agentDir: string, namespace: string, name: string, uid: string): string {
  return join(agentDir, 'pods', `${namespace}_${name}_${uid}`);
}

export function containerLogDirectory(agentDir: string, namespace: string, name: string, uid: string, container: string): string {
  return join(podDirectory(agentDir, namespace, name, uid), container);
}

export function containerLogPath(agentDir: string, namespace: string, name: string, uid: string, container: string, attempt: number): string {
  return join(containerLogDirectory(agentDir, namespace, name, uid, container), `${attempt}.log`);
}
