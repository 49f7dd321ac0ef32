/**
 * The Service address allocator: the object store's write hooks for `services`. A create or an
 * update gets its defaults, its type-change preparation and its addresses planned
 * (allocation-plan.ts); the records of new addresses are created (only if absent) and those of
 * released ones deleted in the same store txn as the Service; the final removal deletes them all.
 *
 * Decision: a chosen address another member took first loses the txn; the object store calls
 * `lost` and plans again, and the new plan picks another (bounded by the store's attempts). An
 * address the client named and another Service holds is a 422 with Kubernetes' words.
 *
 * Decision: a dry run plans from the view only and reserves nothing; it shows the addresses a
 * real create would probably get.
 */
import type { KeyValue, TxnOp } from '../../../store/index.js';
import { apiErrors } from '../status.js';
import type { KubeObject } from '../types.js';
import type { ResourceWriteHooks, WritePlan } from '../registry/write-hooks.js';
import { toApiError } from '../registry/store-errors.js';
import { planAllocation, takenCause, type AllocationPlan, type Claim } from './allocation-plan.js';
import type { AllocationView } from './allocation-view.js';
import { serviceAllocationLimits } from './limits.js';
import type { ServiceRanges } from './ranges.js';
import { addressesHeld, decodeRecord, encodeRecord, recordKey, type AddressKind, type RecordOwner } from './records.js';
import { defaultService, prepareServiceUpdate, specOf } from './service-spec.js';

export class ServiceAllocator implements ResourceWriteHooks {
  constructor(private readonly ranges: ServiceRanges, private readonly view: AllocationView) {}

  planCreate(object: KubeObject, opts: { readonly dryRun: boolean }): Promise<WritePlan> {
    return this.plan(defaultService(structuredClone(object)), null, opts.dryRun);
  }

  planUpdate(current: KubeObject, next: KubeObject, opts: { readonly dryRun: boolean }): Promise<WritePlan> {
    return this.plan(defaultService(prepareServiceUpdate(current, structuredClone(next))), current, opts.dryRun);
  }

  removalOps(current: KubeObject): TxnOp[] {
    return addressesHeld(specOf(current)).map((address) => ({ type: 'delete', request: { key: recordKey(address) } }));
  }

  private async plan(object: KubeObject, old: KubeObject | null, dryRun: boolean): Promise<WritePlan> {
    const spec = specOf(object);
    if (spec === undefined) return noChange(object);
    await this.view.whenSynced(serviceAllocationLimits.viewSyncWaitMs);
    const attempt = (): { planned: KubeObject; plan: AllocationPlan } => {
      const planned = structuredClone(object);
      const plan = planAllocation(specOf(planned) ?? {}, old === null ? null : specOf(old) ?? null, this.ranges, (kind, exclude) => this.choose(kind, exclude));
      return { planned, plan };
    };
    let { planned, plan } = attempt();
    if (plan.full) {
      // The view may have missed releases: read the records before saying "full" (503 if the store cannot answer).
      await this.view.refresh().catch((error: unknown) => { throw toApiError(error, 'precheck'); });
      ({ planned, plan } = attempt());
    }
    const name = planned.metadata.name ?? '';
    if (plan.causes.length > 0) throw apiErrors.invalid('Service', '', name, plan.causes);
    if (dryRun) {
      const taken = plan.claims.find((claim) => claim.explicit && this.view.isHeld(claim.address));
      if (taken !== undefined) throw apiErrors.invalid('Service', '', name, [takenCause(taken)]);
      return noChange(planned);
    }
    const owner: RecordOwner = { namespace: planned.metadata.namespace ?? '', name, uid: planned.metadata.uid ?? '' };
    for (const claim of plan.claims) this.view.reserve(claim.address);
    let settled = false;
    return {
      object: planned,
      compares: plan.claims.map((claim) => ({ key: recordKey(claim.address), target: 'version', op: 'equal', value: 0 })),
      ops: [
        ...plan.claims.map((claim): TxnOp => ({ type: 'put', request: { key: recordKey(claim.address), value: encodeRecord(owner, claim.address) } })),
        ...plan.releases.map((address): TxnOp => ({ type: 'delete', request: { key: recordKey(address) } })),
      ],
      lost: (current) => this.lost(owner, plan.claims, current),
      settle: (committed) => {
        if (settled) return;
        settled = true;
        for (const claim of plan.claims) {
          this.view.unreserve(claim.address);
          if (committed) this.view.markHeld(claim.address);
        }
        if (committed) for (const address of plan.releases) this.view.markFree(address);
      },
    };
  }

  private lost(owner: RecordOwner, claims: readonly Claim[], current: ReadonlyMap<string, KeyValue | null>): void {
    for (const claim of claims) {
      const kv = current.get(recordKey(claim.address)) ?? null;
      if (kv === null) continue;
      // Taken by this same Service (a concurrent update of it won): the next round sees it as held.
      if (decodeRecord(kv.value)?.uid === owner.uid && owner.uid !== '') continue;
      if (claim.explicit) throw apiErrors.invalid('Service', '', owner.name, [takenCause(claim)]);
      this.view.markHeld(claim.address);
    }
  }

  private choose(kind: AddressKind, exclude: ReadonlySet<string>): number | null {
    const range = kind === 'ip' ? { first: this.ranges.clusterIps.dynamicFirst, last: this.ranges.clusterIps.last } : this.ranges.nodePorts;
    return this.view.chooseFree(kind, range, exclude);
  }
}

function noChange(object: KubeObject): WritePlan {
  return { object, compares: [], ops: [], lost: () => undefined, settle: () => undefined };
}
