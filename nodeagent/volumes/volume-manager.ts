/**
 * The node agent's volume manager: prepares a pod's volumes on the node before its containers
 * start, keeps rendered contents (configMap, secret, downwardAPI, projected with tokens) current
 * while it runs, and removes what belongs to the pod when it goes.
 *
 * Layout: `<dir>/volumes/<pod uid>/<volume name>` for emptyDir and rendered volumes
 * (`medium: Memory` under `/dev/shm/kubus-<node>/<pod uid>/` when writable); hostPath and PV
 * volumes are used where they are, and stay after the pod.
 *
 * Decision (mounts): the mount list is the contract with runtimes: `mountsFor` gives each
 * `volumeMount` as (mountPath, host path with subPath resolved, readOnly). Runtimes that can bind
 * mount (cri, docker) do; the process runtime cannot without privileges, so a process container
 * finds its volumes at the host paths (nodeagent/runtime documents how it tells the process).
 */
import { existsSync, mkdirSync, realpathSync, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Container, Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import type { ApiClient } from '../../actors/controllers/runtime/types.js';
import { parseQuantity } from '../../actors/objects/index.js';
import type { PodVolumes, VolumeManager } from '../agent-context.js';
import type { Mount } from '../runtime/types.js';
import { createClusterReader, expandVariables, isApiAnswer, podFieldValue, type ClusterReader, type PodFieldContext } from '../env/index.js';
import { writeAtomically } from './atomic-writer.js';
import { directoryBytes, writableDirectory } from './empty-dir.js';
import { VolumeMountError, VolumeSetUpError } from './errors.js';
import { prepareHostPath } from './host-path.js';
import { volumeLimits, memoryMediumRoot } from './limits.js';
import { claimVolume, PathRecords } from './local-path.js';
import { volumePayload, type PayloadContext } from './payloads.js';
import { createTokenManager } from './token-manager.js';
import { recordPodEvent } from './pod-events.js';

export interface VolumeManagerOptions {
  readonly api: ApiClient;
  /** The agent's `--dir`. */
  readonly dir: string;
  readonly nodeName: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Share one reader with the env resolver; made here otherwise. */
  readonly reader?: ClusterReader;
  /** `status.hostIP` for downwardAPI files when the pod does not carry it yet. */
  readonly nodeIp?: string;
  /** Wall time for the timestamped directories' names and Events; `new Date()` by default. */
  readonly wallClock?: () => Date;
  /** Where `medium: Memory` emptyDirs go (tests point it elsewhere); `/dev/shm` by default. */
  readonly memoryRoot?: string;
}

interface ReadyVolume {
  readonly hostPath: string;
  readonly readOnly: boolean;
  /** Rendered from API objects: rewritten by refresh. */
  readonly rendered: boolean;
  /** emptyDir sizeLimit in bytes, checked by refresh. */
  readonly sizeLimitBytes?: number;
  /** A subPath may be created inside it (emptyDir, hostPath, PV). */
  readonly writable: boolean;
}

export function createVolumeManager(options: VolumeManagerOptions): VolumeManager {
  const { api, clock } = options;
  const logger = options.logger.child({ component: 'volumes' });
  const reader = options.reader ?? createClusterReader({ api, clock, nodeName: options.nodeName, dir: options.dir, logger });
  const tokens = createTokenManager({ api, clock });
  const wallClock = options.wallClock ?? (() => new Date());
  const records = new PathRecords(path.join(options.dir, 'volumes', 'local-path.json'), logger);
  const claims = new PathRecords(path.join(options.dir, 'volumes', 'claims.json'), logger);
  const pods = new Map<string, Map<string, ReadyVolume>>();
  /** Keys `<pod uid>/<volume>…` already warned about; cleared at the pod's tearDown. */
  const warned = new Set<string>();
  const warnOnce = (key: string, message: string, fields: Readonly<Record<string, unknown>>): void => {
    if (warned.has(key)) return;
    warned.add(key);
    logger.warn(message, fields);
  };
  let lastSweepMs: number | null = null;

  const podDir = (pod: Pod): string => path.join(options.dir, 'volumes', pod.metadata?.uid ?? 'unknown');
  const memoryDir = (pod: Pod): string => path.join(options.memoryRoot ?? memoryMediumRoot, `kubus-${options.nodeName}`, pod.metadata?.uid ?? 'unknown');
  const payloadContext = (pod: Pod, podIp: string | null): PayloadContext => ({
    pod, podIp, reader, tokens, warnOnce, nodeIp: pod.status?.hostIP ?? options.nodeIp ?? '',
  });

  async function setUpVolume(pod: Pod, podIp: string | null, volume: Volume): Promise<ReadyVolume> {
    const name = volume.name;
    const target = path.join(podDir(pod), name);
    if (volume.emptyDir !== undefined) {
      let hostPath = target;
      if (volume.emptyDir.medium === 'Memory') {
        if (await writableDirectory(options.memoryRoot ?? memoryMediumRoot)) hostPath = path.join(memoryDir(pod), name);
        else logger.warn('emptyDir medium Memory: the memory root is not writable, using disk', { pod: pod.metadata?.name, volume: name });
      }
      await fs.mkdir(hostPath, { recursive: true });
      // World-writable as Kubernetes makes emptyDirs, so a container running as any user can write.
      await fs.chmod(hostPath, 0o777);
      const limit = parseQuantity(volume.emptyDir.sizeLimit);
      return { hostPath, readOnly: false, rendered: false, writable: true, ...(limit !== undefined ? { sizeLimitBytes: limit } : {}) };
    }
    if (isRendered(volume)) {
      const rendered: ReadyVolume = { hostPath: target, readOnly: true, rendered: true, writable: false };
      const written = existsSync(path.join(target, '..data'));
      // Offline (§6): contents written before (an agent restarted while the API is unreachable) serve until it answers.
      if (reader.unreachable() && written) return rendered;
      try {
        const payload = await volumePayload(volume, payloadContext(pod, podIp));
        if (payload !== null) await writeAtomically(target, payload, wallClock());
      } catch (error) {
        if (!isTransient(error)) throw error;
        reader.noteUnanswered();
        if (!written) throw error;
        logger.warn('the API did not answer; the volume keeps its last contents', { pod: pod.metadata?.name, volume: name, error: (error as Error).message });
      }
      return rendered;
    }
    if (volume.hostPath !== undefined) {
      await prepareHostPath(name, volume.hostPath.path, volume.hostPath.type);
      return { hostPath: volume.hostPath.path, readOnly: false, rendered: false, writable: true };
    }
    if (volume.persistentVolumeClaim !== undefined) {
      const source = volume.persistentVolumeClaim;
      const key = `${pod.metadata?.namespace ?? 'default'}/${source.claimName}`;
      const offlinePath = reader.unreachable() ? await claims.recall(key) : undefined;
      if (offlinePath !== undefined && existsSync(offlinePath)) return { hostPath: offlinePath, readOnly: source.readOnly === true, rendered: false, writable: true };
      try {
        const claim = await claimVolume({ api, pod, volume: name, claimName: source.claimName, readOnly: source.readOnly === true, records });
        await claims.remember(key, claim.hostPath);
        return { ...claim, rendered: false, writable: true };
      } catch (error) {
        // Offline (§6): the claim's host path as last resolved, when its directory is still there.
        if (isTransient(error)) reader.noteUnanswered();
        const known = isTransient(error) ? await claims.recall(key) : undefined;
        if (known === undefined || !existsSync(known)) throw error;
        logger.warn('the API did not answer; the claim uses its last known host path', { pod: pod.metadata?.name, volume: name, path: known });
        return { hostPath: known, readOnly: source.readOnly === true, rendered: false, writable: true };
      }
    }
    throw new VolumeSetUpError(`volume ${name}: this agent supports emptyDir, configMap, secret, downwardAPI, projected, hostPath and persistentVolumeClaim volumes`, name);
  }

  async function sweepLocalPaths(force: boolean): Promise<void> {
    const now = clock.now();
    if (!force && lastSweepMs !== null && now - lastSweepMs < volumeLimits.localPathSweepIntervalMs) return;
    lastSweepMs = now;
    for (const pv of await records.sweep(api).catch(() => [])) logger.info('removed the directory of a deleted local-path volume', { pv });
  }

  async function checkSizeLimits(pod: Pod, volumes: ReadonlyMap<string, ReadyVolume>): Promise<void> {
    for (const [name, volume] of volumes) {
      if (volume.sizeLimitBytes === undefined) continue;
      const key = `${pod.metadata?.uid ?? ''}/${name}`;
      const { bytes } = await directoryBytes(volume.hostPath);
      if (bytes <= volume.sizeLimitBytes || warned.has(key)) continue;
      warned.add(key);
      const message = `emptyDir volume ${name} uses ${bytes} bytes, over its sizeLimit of ${volume.sizeLimitBytes}; Kubernetes would evict the pod, this agent only reports it`;
      logger.warn(message, { pod: pod.metadata?.name, namespace: pod.metadata?.namespace });
      await recordPodEvent({ api, pod, nodeName: options.nodeName, now: wallClock(), type: 'Warning', reason: 'EmptyDirSizeLimitExceeded', message, logger });
    }
  }

  return {
    async setUp(pod, podIp) {
      const ready = new Map<string, ReadyVolume>();
      for (const volume of pod.spec?.volumes ?? []) ready.set(volume.name, await setUpVolume(pod, podIp, volume));
      pods.set(pod.metadata?.uid ?? '', ready);
      return podVolumes(ready, { pod, podIp, nodeIp: pod.status?.hostIP ?? options.nodeIp ?? '' });
    },
    async refresh(pod, podIp) {
      const ready = pods.get(pod.metadata?.uid ?? '');
      if (ready !== undefined) {
        for (const volume of pod.spec?.volumes ?? []) {
          // Nothing to learn while the API is away: keep the contents and save the waits.
          if (ready.get(volume.name)?.rendered !== true || reader.unreachable()) continue;
          try {
            const payload = await volumePayload(volume, payloadContext(pod, podIp));
            if (payload !== null && await writeAtomically(path.join(podDir(pod), volume.name), payload, wallClock())) {
              logger.debug('volume contents updated', { pod: pod.metadata?.name, volume: volume.name });
            }
          } catch (error) {
            // The kubelet keeps the last good contents when a refresh fails; so do we.
            logger.warn('volume refresh failed; keeping the previous contents', { pod: pod.metadata?.name, volume: volume.name, error: (error as Error).message });
          }
        }
        await checkSizeLimits(pod, ready);
      }
      await sweepLocalPaths(false);
    },
    async tearDown(pod) {
      const uid = pod.metadata?.uid ?? '';
      pods.delete(uid);
      tokens.forgetPod(uid);
      for (const key of [...warned]) if (key.startsWith(`${uid}/`)) warned.delete(key);
      await fs.rm(podDir(pod), { recursive: true, force: true });
      await fs.rm(memoryDir(pod), { recursive: true, force: true });
      await sweepLocalPaths(true);
    },
  };
}

function isRendered(volume: Volume): boolean {
  return volume.configMap !== undefined || volume.secret !== undefined || volume.downwardAPI !== undefined || volume.projected !== undefined;
}

function insideDirectory(candidate: string, root: string): boolean {
  return candidate === root || candidate.startsWith(`${root}${path.sep}`);
}

function isTransient(error: unknown): boolean {
  return error instanceof VolumeSetUpError ? error.transient : !isApiAnswer(error);
}

/** The mounts of one container over the pod's prepared volumes. */
/**
 * `subPathExpr` expands `$(VAR)` with the container's env as Kubernetes does; the variables it can
 * see here are the literal values and the downward API fields (what subPathExpr is used with:
 * `$(POD_NAME)`), since the mount list is made before, and apart from, the full env resolution.
 */
function subPathVariables(container: Container, fields: PodFieldContext): Map<string, string> {
  const variables = new Map<string, string>();
  for (const variable of container.env ?? []) {
    const fieldPath = variable.valueFrom?.fieldRef?.fieldPath;
    const value = fieldPath !== undefined ? podFieldValue(fieldPath, fields)
      : variable.valueFrom === undefined ? expandVariables(variable.value ?? '', (name) => variables.get(name)) : undefined;
    if (value !== undefined) variables.set(variable.name, value);
  }
  return variables;
}

function podVolumes(ready: ReadonlyMap<string, ReadyVolume>, fields: PodFieldContext): PodVolumes {
  return {
    mountsFor(container: Container): readonly Mount[] {
      return (container.volumeMounts ?? []).map((mount) => {
        const volume = ready.get(mount.name);
        const fail = (message: string): never => {
          throw new VolumeMountError(`container ${container.name}, mount ${mount.mountPath}: ${message}`, container.name, mount.mountPath);
        };
        if (volume === undefined) return fail(`no volume named ${mount.name} in the pod`);
        const expression = mount.subPathExpr ?? '';
        const variables = expression === '' ? null : subPathVariables(container, fields);
        const subPath = variables === null ? mount.subPath ?? '' : expandVariables(expression, (name) => variables.get(name));
        if (subPath.includes('$(')) return fail(`subPathExpr ${JSON.stringify(expression)} names a variable that is not a literal or downward API env var of the container`);
        if (path.isAbsolute(subPath) || subPath.split('/').includes('..')) return fail(`subPath ${JSON.stringify(subPath)} must be relative and stay inside the volume`);
        const hostPath = subPath === '' ? volume.hostPath : path.join(volume.hostPath, subPath);
        // Kubernetes creates a missing subPath directory in writable volumes.
        if (subPath !== '' && volume.writable && !existsSync(hostPath)) mkdirSync(hostPath, { recursive: true, mode: 0o777 });
        // A symlink planted inside a writable volume must not lead a subPath out of it (CVE-2017-1002101).
        if (subPath !== '' && existsSync(hostPath) && !insideDirectory(realpathSync(hostPath), realpathSync(volume.hostPath))) {
          return fail(`subPath ${JSON.stringify(subPath)} resolves outside its volume`);
        }
        return { containerPath: mount.mountPath, hostPath, readOnly: mount.readOnly === true || volume.readOnly };
      });
    },
  };
}
