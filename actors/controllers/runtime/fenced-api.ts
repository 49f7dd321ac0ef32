/**
 * The API client of one term: writes (create, update, patch, delete) are made only while the
 * component leads; otherwise they fail with LeadershipLostError before they are made. A reconcile
 * still running when leadership is lost can therefore not write after its component stopped
 * leading (a call already on the wire may still land, as in Kubernetes; the renew deadline keeps
 * that before another leader starts). Reads pass, so caches can be warmed before leading.
 */
import { LeadershipLostError } from './api-errors.js';
import type { ApiClient } from './types.js';

export function fencedApi(api: ApiClient, lease: string, active: () => boolean): ApiClient {
  const guard = <A extends unknown[], R>(call: (...args: A) => Promise<R>) => (...args: A): Promise<R> =>
    active() ? call(...args) : Promise.reject(new LeadershipLostError(lease));
  return {
    get: api.get.bind(api),
    list: api.list.bind(api),
    create: guard(api.create.bind(api)) as ApiClient['create'],
    update: guard(api.update.bind(api)) as ApiClient['update'],
    patch: guard(api.patch.bind(api)) as ApiClient['patch'],
    delete: guard(api.delete.bind(api)) as ApiClient['delete'],
    watch: api.watch.bind(api),
  };
}
