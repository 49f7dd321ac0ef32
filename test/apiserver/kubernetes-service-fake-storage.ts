/**
 * An in-memory ObjectStorage for the `kubernetes` Service reconciler's unit tests: get, create,
 * list (equality label selectors), update with resourceVersion preconditions, guaranteedUpdate and
 * delete, answering with the ApiErrors the real store gives (404, 409). `failing` makes every call
 * fail with 503, as a member without quorum answers.
 */
import type { ObjectStorage } from '../../actors/apiserver/http/objects-port.js';
import type { ResourceInfo } from '../../actors/apiserver/registry/resources.js';
import { apiErrors } from '../../actors/apiserver/status.js';
import type { KubeObject } from '../../actors/apiserver/types.js';

export class FakeStorage {
  readonly objects = new Map<string, KubeObject>();
  failing = false;
  writes = 0;
  private revision = 1;
  private uid = 1;

  all(resource: string, namespace: string): KubeObject[] {
    const prefix = `${resource}/${namespace}/`;
    return [...this.objects.entries()].filter(([key]) => key.startsWith(prefix)).map(([, object]) => structuredClone(object));
  }

  one(resource: string, namespace: string, name: string): KubeObject | undefined {
    const found = this.objects.get(`${resource}/${namespace}/${name}`);
    return found === undefined ? undefined : structuredClone(found);
  }

  private check(): void {
    if (this.failing) throw apiErrors.unavailable('no quorum: 1 of 3 members reachable');
  }

  private store(info: ResourceInfo, namespace: string | null, object: KubeObject): KubeObject {
    const stored = structuredClone(object);
    stored.metadata.resourceVersion = String(++this.revision);
    this.objects.set(`${info.resource}/${namespace ?? ''}/${stored.metadata.name ?? ''}`, stored);
    this.writes += 1;
    return structuredClone(stored);
  }

  readonly port: ObjectStorage = {
    get: async (info, namespace, name) => {
      this.check();
      const found = this.one(info.resource, namespace ?? '', name);
      if (found === undefined) throw apiErrors.notFound(info.resource, info.group, name);
      return found;
    },
    list: async (info, namespace, opts) => {
      this.check();
      const wanted = (opts.labelSelector ?? '').split(',').filter((term) => term !== '').map((term) => term.split('=') as [string, string]);
      const items = this.all(info.resource, namespace ?? '').filter((object) => wanted.every(([k, v]) => object.metadata.labels?.[k] === v));
      return { items, resourceVersion: String(this.revision) };
    },
    create: async (info, namespace, object) => {
      this.check();
      const name = object.metadata.name ?? '';
      if (this.one(info.resource, namespace ?? '', name) !== undefined) throw apiErrors.alreadyExists(info.resource, info.group, name);
      return this.store(info, namespace, { ...object, metadata: { ...object.metadata, namespace: namespace ?? '', uid: `uid-${this.uid++}` } });
    },
    update: async (info, namespace, name, object) => {
      this.check();
      const current = this.one(info.resource, namespace ?? '', name);
      if (current === undefined) throw apiErrors.notFound(info.resource, info.group, name);
      const precondition = object.metadata.resourceVersion;
      if (precondition !== undefined && precondition !== current.metadata.resourceVersion) throw apiErrors.conflict(info.resource, info.group, name, 'the object has been modified');
      return this.store(info, namespace, { ...object, metadata: { ...object.metadata, uid: current.metadata.uid ?? '' } });
    },
    guaranteedUpdate: async (info, namespace, name, mutate) => {
      this.check();
      const current = this.one(info.resource, namespace ?? '', name);
      if (current === undefined) throw apiErrors.notFound(info.resource, info.group, name);
      return this.store(info, namespace, await mutate(current));
    },
    delete: async (info, namespace, name, opts) => {
      this.check();
      const current = this.one(info.resource, namespace ?? '', name);
      if (current === undefined) throw apiErrors.notFound(info.resource, info.group, name);
      if (opts.preconditions?.uid !== undefined && opts.preconditions.uid !== current.metadata.uid) throw apiErrors.conflict(info.resource, info.group, name, 'uid precondition');
      this.objects.delete(`${info.resource}/${namespace ?? ''}/${name}`);
      this.writes += 1;
      return { object: current, deleted: true };
    },
    deleteCollection: async () => { throw new Error('unused'); },
    watch: async () => { throw new Error('unused'); },
  };
}
