/**
 * The PersistentVolume binder (Kubernetes' `persistentvolume-binder` controller) with dynamic
 * provisioning: binds claims to volumes, provisions volumes for classes with a provisioner this
 * process runs (the built-in `kubus.io/local-path`), moves volumes through their phases, reclaims
 * Released ones, and creates the default StorageClass `local-path` when the controller starts.
 *
 * Decision: one queue for claims, volumes and the default class, told apart by their keys: a
 * claim is `namespace/name`, a volume `name` (cluster-scoped; a volume name is a DNS subdomain and
 * holds neither `/` nor `:`), the default class `storageclass:<name>`. Claims and volumes wake each
 * other up through two indexes (unbound claims by class; volumes by the claim they name), so no
 * periodic resync is needed to notice a new volume or a deleted claim.
 */
import { objectKey } from '../../objects/index.js';
import { isAlreadyExists } from '../runtime/api-errors.js';
import { refs } from '../runtime/resource-refs.js';
import type { ControllerContext, ControllerSpec, WorkQueue } from '../runtime/types.js';
import { volumeAnnotations } from './annotations.js';
import { binderInformers, unboundByClassIndex, volumesByClaimIndex, type BinderDeps, type BinderInformers, type StoredClaim, type StoredVolume } from './binder-context.js';
import { syncClaim } from './claim-sync.js';
import { volumeLimits } from './limits.js';
import { localPathProvisioner } from './local-path-provisioner.js';
import type { Provisioner } from './provisioner.js';
import { claimClassName, defaultClass, localPathClassName, localPathStorageClass, volumeClassName } from './storage-class.js';
import { syncVolume } from './volume-sync.js';

const classKeyPrefix = 'storageclass:';

export interface BinderOptions {
  /** The provisioners run in-process; default: the built-in local-path one. */
  readonly provisioners?: readonly Provisioner[];
}

export function persistentVolumeBinder(options: BinderOptions = {}): ControllerSpec {
  const deps: BinderDeps = { provisioners: new Map((options.provisioners ?? [localPathProvisioner()]).map((p) => [p.name, p])) };
  return {
    name: 'persistentvolume-binder',
    workers: volumeLimits.workersDefault,
    watch: (ctx, queue) => watchBinder(binderInformers(ctx), queue),
    reconcile: async (key, ctx, queue) => {
      const informers = binderInformers(ctx);
      if (key.startsWith(classKeyPrefix)) return ensureDefaultClass(key.slice(classKeyPrefix.length), ctx, informers);
      if (key.includes('/')) return syncClaim(key, ctx, informers, deps);
      return syncVolume(key, ctx, queue, informers, deps);
    },
  };
}

function watchBinder(informers: BinderInformers, queue: WorkQueue): () => void {
  const { claims, volumes, classes } = informers;
  claims.addIndex(unboundByClassIndex, (claim) => (claim.metadata.annotations?.[volumeAnnotations.bindCompleted] === undefined ? [claimClassName(claim)] : []));
  volumes.addIndex(volumesByClaimIndex, (volume) => {
    const ref = volume.spec?.claimRef;
    return ref === undefined ? [] : [`${ref.namespace ?? ''}/${ref.name ?? ''}`];
  });
  const claimChanged = (claim: StoredClaim): void => {
    const key = objectKey(claim);
    queue.add(key);
    for (const volume of volumes.byIndex(volumesByClaimIndex, key)) queue.add(objectKey(volume));
  };
  const volumeChanged = (volume: StoredVolume): void => {
    queue.add(objectKey(volume));
    const ref = volume.spec?.claimRef;
    if (ref !== undefined) queue.add(`${ref.namespace ?? ''}/${ref.name ?? ''}`);
    else for (const claim of claims.byIndex(unboundByClassIndex, volumeClassName(volume))) queue.add(objectKey(claim));
  };
  const classChanged = (): void => {
    // A new default class or binding mode may settle any unbound claim: wake them all (few by nature).
    for (const claim of claims.list()) if (claim.metadata.annotations?.[volumeAnnotations.bindCompleted] === undefined) queue.add(objectKey(claim));
  };
  const unsubscribe = [
    claims.addHandlers({ onAdd: claimChanged, onUpdate: (_, next) => claimChanged(next), onDelete: claimChanged }),
    volumes.addHandlers({ onAdd: volumeChanged, onUpdate: (_, next) => volumeChanged(next), onDelete: volumeChanged }),
    classes.addHandlers({ onAdd: classChanged, onUpdate: classChanged, onDelete: classChanged }),
  ];
  queue.add(`${classKeyPrefix}${localPathClassName}`);
  return () => { for (const stop of unsubscribe) stop(); };
}

/**
 * The built-in class, created when absent. It is the default only when no other class is: an
 * administrator's own default must not be displaced by a newer built-in one.
 */
async function ensureDefaultClass(name: string, ctx: ControllerContext, informers: BinderInformers): Promise<void> {
  const classes = informers.classes.list();
  if (classes.some((c) => c.metadata.name === name)) return;
  const storageClass = localPathStorageClass();
  if (defaultClass(classes) !== undefined) delete storageClass.metadata?.annotations;
  try {
    await ctx.api.create(refs.storageclasses, undefined, storageClass);
    ctx.logger.info('default StorageClass created', { storageClass: name });
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
}

/** The binder with the built-in provisioner, as the controller manager runs it. */
export const persistentVolumeBinderSpec: ControllerSpec = persistentVolumeBinder();
