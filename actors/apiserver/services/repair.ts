/**
 * The repair pass: frees allocation records whose owner no longer holds the address (the owner
 * Service is gone, was replaced by another of the same name, or changed its addresses), as
 * Kubernetes' ClusterIP and NodePort repair loops do. Records are written in the Service's own
 * txn, so this finds nothing unless something wrote around the object store; it is the safety net.
 * The other way round too: an address a Service holds with no record (a Service stored before
 * allocation existed, or written around the object store) gets its record, so no other Service
 * is handed it; of two Services holding one address, the first keeps it and the other is logged.
 *
 * Decision: every member runs it, with no election. A record is deleted only if it is still at
 * the revision read before the Services were read (compare-and-delete): an owner that took the
 * address again since then rewrote the record, and the delete fails. So passes racing in every
 * member, or with Service writes, never free a held address. A record is adopted only if it is
 * still absent and the Service still at the revision read (one txn).
 */
import type { Clock, Logger, TimerId } from '../../../bus/index.js';
import type { StoreClient } from '../../../store/index.js';
import type { ObjectStorage } from '../http/objects-port.js';
import { findResource, type ResourceInfo } from '../registry/resources.js';
import { objectKey, prefixEnd } from '../registry/storage-codec.js';
import type { KubeObject } from '../types.js';
import { serviceAllocationLimits } from './limits.js';
import {
  addressId, addressesHeld, allocationRecordsPrefix, decodeRecord, encodeRecord, parseRecordKey, recordKey, type Address, type RecordOwner,
} from './records.js';
import { specOf } from './service-spec.js';

const servicesInfo = findResource('', 'v1', 'services') as ResourceInfo;

export interface StoredRecord {
  readonly key: string;
  readonly modRevision: number;
  readonly address: Address;
  /** Null: bytes this code did not write; such a record is left alone. */
  readonly owner: RecordOwner | null;
}

/** The records whose owner (by namespace, name and uid) does not hold their address in `services`. */
export function leakedRecords(records: readonly StoredRecord[], services: readonly KubeObject[]): StoredRecord[] {
  const held = new Map<string, { uid: string; addresses: Set<string> }>();
  for (const service of services) {
    const key = `${service.metadata.namespace ?? ''}/${service.metadata.name ?? ''}`;
    held.set(key, { uid: service.metadata.uid ?? '', addresses: new Set(addressesHeld(specOf(service)).map(addressId)) });
  }
  return records.filter((record) => {
    if (record.owner === null) return false;
    const owner = held.get(`${record.owner.namespace}/${record.owner.name}`);
    return owner === undefined || owner.uid !== record.owner.uid || !owner.addresses.has(addressId(record.address));
  });
}

/** Addresses Services hold with no record: each with the first Service (in list order) that holds it. */
export function unrecordedAddresses(records: readonly StoredRecord[], services: readonly KubeObject[]): { service: KubeObject; address: Address }[] {
  const recorded = new Set(records.map((record) => addressId(record.address)));
  const found = new Map<string, { service: KubeObject; address: Address }>();
  for (const service of services) {
    for (const address of addressesHeld(specOf(service))) {
      const id = addressId(address);
      if (!recorded.has(id) && !found.has(id)) found.set(id, { service, address });
    }
  }
  return [...found.values()];
}

export interface AllocationRepair {
  /** One pass now: the records freed and adopted. */
  runOnce(): Promise<{ freed: number; adopted: number }>;
  stop(): void;
}

export function startAllocationRepair(options: {
  readonly client: StoreClient;
  readonly objects: Pick<ObjectStorage, 'list'>;
  readonly clock: Clock;
  readonly logger: Logger;
}): AllocationRepair {
  const { client, clock, logger } = options;
  let stopped = false;
  let timer: TimerId | null = null;

  const readRecords = async (): Promise<StoredRecord[]> => {
    const records: StoredRecord[] = [];
    const end = prefixEnd(allocationRecordsPrefix);
    let key = allocationRecordsPrefix;
    let revision = 0;
    for (;;) {
      const { result } = await client.range({ key, end, limit: serviceAllocationLimits.viewListPageKeys, revision }, { consistency: 'linearizable' });
      if (revision === 0) revision = result.revision;
      for (const kv of result.kvs) {
        const address = parseRecordKey(kv.key);
        if (address !== null) records.push({ key: kv.key, modRevision: kv.modRevision, address, owner: decodeRecord(kv.value) });
      }
      const last = result.kvs[result.kvs.length - 1];
      if (!result.more || last === undefined) return records;
      key = `${last.key}\u0000`;
    }
  };

  /** Every Service, in pages (one consistent snapshot: the continue token keeps the first page's revision). */
  const listServices = async (): Promise<KubeObject[]> => {
    const items: KubeObject[] = [];
    let token: string | undefined;
    do {
      const page = await options.objects.list(servicesInfo, null, { limit: serviceAllocationLimits.repairListPageItems, ...(token !== undefined ? { continue: token } : {}) });
      items.push(...page.items);
      token = page.continue !== undefined && page.continue !== '' ? page.continue : undefined;
    } while (token !== undefined);
    return items;
  };

  const runOnce = async (): Promise<{ freed: number; adopted: number }> => {
    const records = await readRecords();
    // Read after the records: a Service that took an address before the records were read is in this list.
    const services = await listServices();
    let freed = 0;
    let adopted = 0;
    for (const record of leakedRecords(records, services).slice(0, serviceAllocationLimits.repairDeletesPerPassMax)) {
      const result = await client.txn(
        [{ key: record.key, target: 'modRevision', op: 'equal', value: record.modRevision }],
        [{ type: 'delete', request: { key: record.key } }], [],
      );
      if (result.succeeded) {
        freed += 1;
        logger.info('service address released by repair: its owner no longer holds it', { record: record.key, owner: record.owner });
      }
    }
    for (const { service, address } of unrecordedAddresses(records, services).slice(0, serviceAllocationLimits.repairDeletesPerPassMax)) {
      const { namespace = '', name = '', uid = '' } = service.metadata;
      const key = recordKey(address);
      const result = await client.txn(
        [
          { key, target: 'version', op: 'equal', value: 0 },
          { key: objectKey(servicesInfo, namespace, name), target: 'modRevision', op: 'equal', value: Number(service.metadata.resourceVersion) },
        ],
        [{ type: 'put', request: { key, value: encodeRecord({ namespace, name, uid }, address) } }], [],
      );
      if (result.succeeded) adopted += 1;
      logger.warn(result.succeeded ? 'service address had no allocation record; recorded by repair' : 'service address has no allocation record and could not be recorded now', {
        record: key, service: `${namespace}/${name}`,
      });
    }
    return { freed, adopted };
  };

  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      timer = null;
      void runOnce()
        .catch((error: unknown) => logger.debug('service address repair pass failed; next pass later', { error: (error as Error).message }))
        .finally(() => schedule(serviceAllocationLimits.repairIntervalMs));
    }, delayMs);
  };
  schedule(serviceAllocationLimits.repairFirstDelayMs);
  return {
    runOnce,
    stop() {
      stopped = true;
      if (timer !== null) clock.clearTimeout(timer);
    },
  };
}
