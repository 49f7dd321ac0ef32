/**
 * The node's heartbeat: its Lease `kube-node-lease/<node>` (holder = node name), renewed every
 * `leaseRenewIntervalMs`, as the kubelet's nodelease controller does it. The last written Lease is
 * kept, so a renew is one update (no read first); a 409 or 404 drops it and the next try reads or
 * creates. The Lease is owned by the Node (ownerReference), so deleting the Node removes it.
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node } from 'kubernetes-types/core/v1.js';
import { microTime } from '../../actors/controllers/runtime/lease-decision.js';
import { isConflict, isNotFound } from '../../actors/controllers/runtime/api-errors.js';
import { refs } from '../../actors/controllers/runtime/resource-refs.js';
import type { ApiClient } from '../../actors/controllers/runtime/types.js';

export const nodeLeaseNamespace = 'kube-node-lease';

export const leaseRetry = {
  /** The kubelet's first retry after a failed renew (200 ms), doubling per failure... */
  firstDelayMs: 200,
  /** ...up to its cap of 7 s, so a few lost renews never cost the 40 s the Lease lasts. */
  maxDelayMs: 7_000,
} as const;

/** Delay before the next renew: the interval after a success, a short doubling retry after failures, never beyond the interval. */
export function nextLeaseDelayMs(consecutiveFailures: number, renewIntervalMs: number): number {
  if (consecutiveFailures <= 0) return renewIntervalMs;
  const backoff = leaseRetry.firstDelayMs * 2 ** Math.min(consecutiveFailures - 1, 16);
  return Math.min(backoff, leaseRetry.maxDelayMs, renewIntervalMs);
}

export interface LeaseRenewer {
  /** One renew; throws the API's typed error on failure. */
  renew(node: Node | null): Promise<void>;
}

export function nodeLeaseRenewer(api: ApiClient, nodeName: string, leaseDurationSeconds: number, wallClock: () => Date): LeaseRenewer {
  let last: Lease | null = null;
  const spec = (): NonNullable<Lease['spec']> => ({ holderIdentity: nodeName, leaseDurationSeconds, renewTime: microTime(wallClock()) });
  return {
    async renew(node) {
      try {
        if (last === null) {
          try {
            last = await api.get<Lease>(refs.leases, nodeLeaseNamespace, nodeName);
          } catch (error) {
            if (!isNotFound(error)) throw error;
            const uid = node?.metadata?.uid;
            last = await api.create<Lease>(refs.leases, nodeLeaseNamespace, {
              apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
              metadata: { name: nodeName, namespace: nodeLeaseNamespace, ...(uid !== undefined ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid }] } : {}) },
              spec: spec(),
            });
            return;
          }
        }
        last = await api.update<Lease>(refs.leases, nodeLeaseNamespace, nodeName, { ...last, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec: { ...last.spec, ...spec() } });
      } catch (error) {
        // Someone else wrote it, or it is gone: read (or create) afresh next time.
        if (isConflict(error) || isNotFound(error)) last = null;
        throw error;
      }
    },
  };
}
