/**
 * The reconcile glue for one volume: its phase follows its claim, a Released volume is reclaimed.
 * Before treating a claim as gone (Released, and with `Delete` the volume deleted) the API is asked,
 * not only the informer: deleting data because a cache lagged is the one mistake that cannot be
 * undone.
 */
import type { PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { isNotFound } from '../runtime/api-errors.js';
import { refs } from '../runtime/resource-refs.js';
import type { ControllerContext, WorkQueue } from '../runtime/types.js';
import { volumeAnnotations } from './annotations.js';
import type { BinderDeps, BinderInformers, StoredClaim, StoredVolume } from './binder-context.js';
import { volumePhaseWrite } from './binding-writes.js';
import { decideVolume, unboundVolume } from './volume-decision.js';

export async function syncVolume(name: string, ctx: ControllerContext, queue: WorkQueue, informers: BinderInformers, deps: BinderDeps): Promise<void> {
  const volume = informers.volumes.get(name);
  if (volume === undefined) return;
  const ref = volume.spec?.claimRef;
  let claim: PersistentVolumeClaim | undefined = ref === undefined ? undefined : informers.claims.get(`${ref.namespace ?? ''}/${ref.name ?? ''}`);
  let action = decideVolume(volume, claim);
  if (action.kind === 'release' && ref !== undefined) {
    claim = await claimFromApi(ctx, ref.namespace ?? '', ref.name ?? '');
    action = decideVolume(volume, claim);
  }
  switch (action.kind) {
    case 'none':
      return;
    case 'setPhase':
      await writePhase(ctx, volume, action.phase);
      return;
    case 'syncClaim':
      queue.add(action.claimKey);
      return;
    case 'unbind': {
      const unbound = await ctx.api.update<StoredVolume>(refs.persistentvolumes, undefined, name, unboundVolume(volume));
      await writePhase(ctx, unbound, 'Available');
      return;
    }
    case 'release': {
      const released = await writePhase(ctx, volume, 'Released');
      await reclaim(released, action.policy, ctx, deps);
      return;
    }
  }
}

async function claimFromApi(ctx: ControllerContext, namespace: string, name: string): Promise<StoredClaim | undefined> {
  try {
    return await ctx.api.get<StoredClaim>(refs.persistentvolumeclaims, namespace, name);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function writePhase(ctx: ControllerContext, volume: StoredVolume, phase: string, message?: string): Promise<StoredVolume> {
  const write = volumePhaseWrite(volume, phase, message);
  if (write === undefined) return volume;
  return ctx.api.update<StoredVolume>(refs.persistentvolumes, undefined, volume.metadata.name ?? '', write, { subresource: 'status' });
}

/** Retain keeps the Released volume for an administrator; Delete frees its storage, then the object. */
async function reclaim(volume: StoredVolume, policy: string, ctx: ControllerContext, deps: BinderDeps): Promise<void> {
  const name = volume.metadata.name ?? '';
  if (policy === 'Retain') return;
  if (policy !== 'Delete') {
    await fail(ctx, volume, 'VolumeFailedRecycle', `reclaim policy ${policy} is not supported: use Delete or Retain`);
    return;
  }
  const provisionedBy = volume.metadata.annotations?.[volumeAnnotations.provisionedBy];
  if (provisionedBy === undefined) {
    await fail(ctx, volume, 'VolumeFailedDelete', `error getting deleter volume plugin for volume "${name}": no deletable volume plugin matched`);
    return;
  }
  const provisioner = deps.provisioners.get(provisionedBy);
  // Another process's provisioner created it and deletes it, as Kubernetes leaves external volumes.
  if (provisioner === undefined) return;
  await provisioner.delete(volume);
  try {
    await ctx.api.delete(refs.persistentvolumes, undefined, name, { preconditions: { uid: volume.metadata.uid ?? '' } });
    ctx.logger.debug('released volume deleted', { volume: name, provisioner: provisionedBy });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

async function fail(ctx: ControllerContext, volume: StoredVolume, reason: string, message: string): Promise<void> {
  const failed = await writePhase(ctx, volume, 'Failed', message);
  ctx.events.record(failed, 'Warning', reason, message);
}
