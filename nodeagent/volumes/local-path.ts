/**
 * PersistentVolumeClaims: the claim's bound PV resolved to a host path. Supported PVs: hostPath
 * (what `kubus.io/local-path` provisions) and `local`. For PVs provisioned by `kubus.io/local-path`
 * with reclaim policy Delete, the agent creates the directory and remembers it in
 * `<dir>/volumes/local-path.json`, so it can remove the directory once the PV is deleted.
 *
 * Decision (reclaim): the node sees a PV only through its own pods' claims (node authorizer), so it
 * cannot watch PVs. Each sweep GETs every remembered PV: 404 → the volume is gone, remove the
 * directory; 403 → no pod of this node references it any more and the API will not say whether it
 * still exists, so the directory stays (see the report: the authorizer needs to allow a node to
 * read PVs pinned to it for this to work in every case); any other error → ask again next sweep.
 * A directory is only ever removed when its name is `pvc-…`, as the provisioner names them.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../../bus/logger.js';
import type { ApiClient } from '../../actors/controllers/runtime/types.js';
import { coreResources, isApiAnswer, isForbiddenError, isNotFoundError } from '../env/index.js';
import { VolumeSetUpError } from './errors.js';
import { prepareHostPath } from './host-path.js';

export const localPathProvisioner = 'kubus.io/local-path';
const provisionedByAnnotation = 'pv.kubernetes.io/provisioned-by';

export interface ClaimVolume {
  readonly hostPath: string;
  readonly readOnly: boolean;
}

/** The host path of a pod's claim; sets up the directory of a local-path PV. */
export async function claimVolume(options: {
  readonly api: ApiClient;
  readonly pod: Pod;
  readonly volume: string;
  readonly claimName: string;
  readonly readOnly: boolean;
  readonly records: PathRecords;
}): Promise<ClaimVolume> {
  const { api, pod, volume, claimName } = options;
  const namespace = pod.metadata?.namespace ?? 'default';
  const fail = (message: string, cause?: unknown): never => {
    throw new VolumeSetUpError(`volume ${volume}: ${message}`, volume, cause === undefined ? undefined : { cause, transient: !isApiAnswer(cause) });
  };
  const claim = await api.get<PersistentVolumeClaim>(coreResources.persistentvolumeclaims, namespace, claimName)
    .catch((error: unknown) => fail(`cannot read persistentvolumeclaim ${namespace}/${claimName}: ${(error as Error).message}`, error));
  const pvName = claim.spec?.volumeName;
  if (pvName === undefined || pvName === '') return fail(`persistentvolumeclaim ${namespace}/${claimName} is not bound yet`);
  const pv = await api.get<PersistentVolume>(coreResources.persistentvolumes, undefined, pvName)
    .catch((error: unknown) => fail(`cannot read persistentvolume ${pvName}: ${(error as Error).message}`, error));
  const hostPath = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
  if (hostPath === undefined) return fail(`persistentvolume ${pvName} is neither hostPath nor local; this agent mounts only those`);
  const provisioned = pv.metadata?.annotations?.[provisionedByAnnotation] === localPathProvisioner;
  await prepareHostPath(volume, hostPath, provisioned ? 'DirectoryOrCreate' : pv.spec?.hostPath?.type);
  if (provisioned && (pv.spec?.persistentVolumeReclaimPolicy ?? 'Delete') === 'Delete') await options.records.remember(pvName, hostPath);
  return { hostPath, readOnly: options.readOnly };
}

/**
 * Host paths by name, persisted under the agent's dir: the local-path directories this agent
 * created, by PV name (so a restarted agent still reclaims them), and each claim's host path, by
 * `<namespace>/<claim>` (so a pod with a PVC starts again while the API is unreachable).
 */
export class PathRecords {
  private cache: Record<string, string> | null = null;

  constructor(private readonly file: string, private readonly logger: Logger) {}

  private async load(): Promise<Record<string, string>> {
    if (this.cache !== null) return this.cache;
    try {
      this.cache = JSON.parse(await fs.readFile(this.file, 'utf8')) as Record<string, string>;
    } catch {
      this.cache = {};
    }
    return this.cache;
  }

  private async save(records: Record<string, string>): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp`;
    await fs.writeFile(tmp, JSON.stringify(records), { mode: 0o600 });
    await fs.rename(tmp, this.file);
  }

  async remember(name: string, hostPath: string): Promise<void> {
    const records = await this.load();
    if (records[name] === hostPath) return;
    records[name] = hostPath;
    await this.save(records);
  }

  async recall(name: string): Promise<string | undefined> {
    return (await this.load())[name];
  }

  /** One sweep: removes the directories of deleted PVs; returns the PV names reclaimed. */
  async sweep(api: ApiClient): Promise<string[]> {
    const records = await this.load();
    const reclaimed: string[] = [];
    for (const [pvName, hostPath] of Object.entries(records)) {
      try {
        await api.get(coreResources.persistentvolumes, undefined, pvName);
      } catch (error) {
        if (isNotFoundError(error)) {
          if (path.basename(hostPath).startsWith('pvc-')) await fs.rm(hostPath, { recursive: true, force: true });
          else this.logger.warn('kept a reclaimed local-path directory whose name is not pvc-…', { pv: pvName, path: hostPath });
          delete records[pvName];
          reclaimed.push(pvName);
        } else if (!isForbiddenError(error)) {
          this.logger.debug('local-path sweep: PV read failed, retrying next sweep', { pv: pvName, error: (error as Error).message });
        }
      }
    }
    if (reclaimed.length > 0) await this.save(records);
    return reclaimed;
  }
}
