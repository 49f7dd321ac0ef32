/**
 * The reconcile glue for one claim: read the informers, ask decideClaim, perform the answer through
 * the API. A Conflict (another writer was first) re-reads the objects involved and decides again,
 * a bounded number of times; written objects overlay the informers' possibly older copies so one
 * sync sees its own writes.
 */
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import { objectKey, splitKey, type SelectableNode } from '../../objects/index.js';
import { isAlreadyExists, isConflict, isNotFound } from '../runtime/api-errors.js';
import { refs } from '../runtime/resource-refs.js';
import type { ControllerContext, ReconcileResult } from '../runtime/types.js';
import { volumeAnnotations } from './annotations.js';
import type { BinderDeps, BinderInformers, StoredClaim, StoredVolume } from './binder-context.js';
import {
  claimBoundStatusWrite, claimClassWrite, claimPhaseWrite, claimProvisionerWrite, claimVolumeNameWrite, volumeClaimRefWrite, volumePhaseWrite,
} from './binding-writes.js';
import { decideClaim, type BinderEvent, type ClaimAction } from './claim-decision.js';
import { BindingContendedError, ProvisioningFailedError } from './errors.js';
import { volumeLimits } from './limits.js';
import { provisionedVolume } from './provisioner.js';

/** Volumes this sync wrote or re-read, by name (null: confirmed gone), over the informer's copies. */
type Overlay = Map<string, StoredVolume | null>;

interface SyncState {
  claim: StoredClaim;
  readonly overlay: Overlay;
}

/** What performing an action asks of the loop: stop (with a result), or decide again. */
type Step = { readonly done: true; readonly result?: ReconcileResult } | { readonly done: false };

export async function syncClaim(key: string, ctx: ControllerContext, informers: BinderInformers, deps: BinderDeps): Promise<ReconcileResult | void> {
  const cached = informers.claims.get(key);
  if (cached === undefined) return;
  const state: SyncState = { claim: cached, overlay: new Map() };
  for (let attempt = 0; attempt <= volumeLimits.bindConflictRetriesMax + volumeLimits.claimStepsMax; attempt++) {
    const action = decideClaim({
      claim: state.claim,
      volumes: volumesWithOverlay(informers, state.overlay),
      classes: informers.classes.list(),
      selectedNode: selectedNode(state.claim, informers),
      nodeLocalProvisioners: new Set([...deps.provisioners.values()].filter((p) => p.nodeLocal).map((p) => p.name)),
    });
    try {
      const step = await perform(action, state, ctx, deps);
      if (step.done) return step.result;
    } catch (error) {
      if (!isConflict(error)) throw error;
      if (!(await reread(state, action, ctx))) return;
    }
  }
  throw new BindingContendedError(`claim ${key}: binding still contended after ${volumeLimits.bindConflictRetriesMax} fresh reads`, { claim: key });
}

function volumesWithOverlay(informers: BinderInformers, overlay: Overlay): PersistentVolume[] {
  const volumes: PersistentVolume[] = informers.volumes.list().filter((v) => !overlay.has(v.metadata.name ?? ''));
  for (const volume of overlay.values()) if (volume !== null) volumes.push(volume);
  return volumes;
}

/** The scheduler's chosen node, with the Node's labels when known (a node not yet seen is just its hostname). */
function selectedNode(claim: StoredClaim, informers: BinderInformers): SelectableNode | undefined {
  const name = claim.metadata.annotations?.[volumeAnnotations.selectedNode];
  if (name === undefined || name === '') return undefined;
  const node = informers.nodes.get(name);
  return { name, labels: node?.metadata.labels ?? { 'kubernetes.io/hostname': name } };
}

/** After a Conflict: the claim and the volume the action touched, fresh from the API. False when the claim is gone. */
async function reread(state: SyncState, action: ClaimAction, ctx: ControllerContext): Promise<boolean> {
  const { namespace, name } = splitKey(objectKey(state.claim));
  try {
    state.claim = await ctx.api.get<StoredClaim>(refs.persistentvolumeclaims, namespace, name);
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  if (action.kind === 'bind') {
    const volumeName = action.volume.metadata?.name ?? '';
    try {
      state.overlay.set(volumeName, await ctx.api.get<StoredVolume>(refs.persistentvolumes, undefined, volumeName));
    } catch (error) {
      if (!isNotFound(error)) throw error;
      state.overlay.set(volumeName, null);
    }
  }
  return true;
}

async function perform(action: ClaimAction, state: SyncState, ctx: ControllerContext, deps: BinderDeps): Promise<Step> {
  switch (action.kind) {
    case 'none':
      return { done: true };
    case 'setDefaultClass':
      state.claim = await writeClaim(ctx, claimClassWrite(state.claim, action.className));
      return { done: false };
    case 'bind':
      await bind(state, action.volume as StoredVolume, ctx);
      return { done: true };
    case 'pending':
      await setClaimPhase(state, 'Pending', ctx);
      if (action.event !== undefined) recordOn(ctx, state.claim, action.event);
      return { done: true };
    case 'provision':
      return provision(state, action, ctx, deps);
    case 'lost':
      return markLost(state, action, ctx);
  }
}

/** The four writes of binding-writes.ts, each skipped when already done. */
async function bind(state: SyncState, chosen: StoredVolume, ctx: ControllerContext): Promise<void> {
  let volume = chosen;
  const name = volume.metadata.name ?? '';
  const refWrite = volumeClaimRefWrite(volume, state.claim);
  if (refWrite !== undefined) {
    volume = await ctx.api.update<StoredVolume>(refs.persistentvolumes, undefined, name, refWrite);
    state.overlay.set(name, volume);
  }
  const phaseWrite = volumePhaseWrite(volume, 'Bound');
  if (phaseWrite !== undefined) {
    volume = await ctx.api.update<StoredVolume>(refs.persistentvolumes, undefined, name, phaseWrite, { subresource: 'status' });
    state.overlay.set(name, volume);
  }
  const nameWrite = claimVolumeNameWrite(state.claim, volume);
  if (nameWrite !== undefined) state.claim = await writeClaim(ctx, nameWrite);
  const statusWrite = claimBoundStatusWrite(state.claim, volume);
  if (statusWrite !== undefined) state.claim = await writeClaim(ctx, statusWrite, 'status');
  if (refWrite !== undefined || nameWrite !== undefined) ctx.logger.debug('volume bound', { claim: objectKey(state.claim), volume: name });
}

async function provision(state: SyncState, action: Extract<ClaimAction, { kind: 'provision' }>, ctx: ControllerContext, deps: BinderDeps): Promise<Step> {
  const provisionerName = action.storageClass.provisioner;
  const annotate = claimProvisionerWrite(state.claim, provisionerName);
  if (annotate !== undefined) {
    state.claim = await writeClaim(ctx, annotate);
    recordOn(ctx, state.claim, {
      type: 'Normal', reason: 'ExternalProvisioning',
      message: `Waiting for a volume to be created either by the external provisioner '${provisionerName}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    });
  }
  await setClaimPhase(state, 'Pending', ctx);
  const provisioner = deps.provisioners.get(provisionerName);
  if (provisioner === undefined) return { done: true };
  const claimKey = objectKey(state.claim);
  recordOn(ctx, state.claim, { type: 'Normal', reason: 'Provisioning', message: `External provisioner is provisioning volume for claim "${claimKey}"` });
  const request = { claim: state.claim, storageClass: action.storageClass, selectedNode: action.selectedNode };
  let spec;
  try {
    spec = await provisioner.provision(request);
  } catch (error) {
    if (!(error instanceof ProvisioningFailedError)) throw error;
    recordOn(ctx, state.claim, { type: 'Warning', reason: 'ProvisioningFailed', message: `failed to provision volume with StorageClass "${action.storageClass.metadata?.name ?? ''}": ${error.message}` });
    return { done: true, result: { requeueAfterMs: volumeLimits.provisionRetryDelayMs } };
  }
  const volume = provisionedVolume(request, provisionerName, spec);
  const name = volume.metadata?.name ?? '';
  try {
    state.overlay.set(name, await ctx.api.create<StoredVolume>(refs.persistentvolumes, undefined, volume));
    recordOn(ctx, state.claim, { type: 'Normal', reason: 'ProvisioningSucceeded', message: `Successfully provisioned volume ${name}` });
  } catch (error) {
    // Provisioned before (a retry, or the previous leader's work): the volume is there to bind.
    if (!isAlreadyExists(error)) throw error;
    state.overlay.set(name, await ctx.api.get<StoredVolume>(refs.persistentvolumes, undefined, name));
  }
  return { done: false };
}

async function markLost(state: SyncState, action: Extract<ClaimAction, { kind: 'lost' }>, ctx: ControllerContext): Promise<Step> {
  if (action.missingVolume !== undefined) {
    // The informer may not have seen a volume created a moment ago: only the API says it is gone.
    try {
      state.overlay.set(action.missingVolume, await ctx.api.get<StoredVolume>(refs.persistentvolumes, undefined, action.missingVolume));
      return { done: false };
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  await setClaimPhase(state, 'Lost', ctx);
  recordOn(ctx, state.claim, action.event);
  return { done: true };
}

async function setClaimPhase(state: SyncState, phase: 'Pending' | 'Lost', ctx: ControllerContext): Promise<void> {
  const write = claimPhaseWrite(state.claim, phase);
  if (write !== undefined) state.claim = await writeClaim(ctx, write, 'status');
}

async function writeClaim(ctx: ControllerContext, claim: PersistentVolumeClaim, subresource?: 'status'): Promise<StoredClaim> {
  const { namespace, name } = claim.metadata ?? {};
  return ctx.api.update<StoredClaim>(refs.persistentvolumeclaims, namespace, name ?? '', claim, subresource !== undefined ? { subresource } : {});
}

function recordOn(ctx: ControllerContext, claim: StoredClaim, event: BinderEvent): void {
  ctx.events.record(claim, event.type, event.reason, event.message);
}
