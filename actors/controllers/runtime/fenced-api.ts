/**
 * The API client of one leadership term: once the term ends, every call fails with
 * LeadershipLostError before it is made. A reconcile still running when leadership is lost can
 * therefore not write after its component stopped leading (a call already on the wire may still
 * land, as in Kubernetes; the renew deadline is what keeps that before another leader starts).
 */
import { LeadershipLostError } from './api-errors.js';
import type { ApiClient } from './types.js';

export function fencedApi(api: ApiClient, lease: string, active: () => boolean): ApiClient {
  const guard = <A extends unknown[], R>(call: (...args: A) => Promise<R>) => (...args: A): Promise<R> =>
    active() ? call(...args) : Promise.reject(new LeadershipLostError(lease));
  return {
    get: guard(api.get.bind(api)) as ApiClient['get'],
    list: guard(api.list.bind(api)) as ApiClient['list'],
    create: guard(api.create.bind(api)) as ApiClient['create'],
    update: guard(api.update.bind(api)) as ApiClient['update'],
    patch: guard(api.patch.bind(api)) as ApiClient['patch'],
    delete: guard(api.delete.bind(api)) as ApiClient['delete'],
    watch: guard(api.watch.bind(api)) as ApiClient['watch'],
  };
}
