/**
 * Two controllers keyed by namespace name, as Kubernetes runs them: `serviceaccount` keeps a
 * `default` ServiceAccount in every Active namespace, `root-ca-cert-publisher` keeps the
 * `kube-root-ca.crt` ConfigMap (from `rootCaCertPem`, the cluster CA the controller manager is
 * given). Each is woken by its namespace and by its object being edited or deleted.
 *
 * Decision: a create that answers AlreadyExists is success (the informer was behind), as is one
 * refused because the namespace is terminating; an update on a stale resourceVersion fails and is
 * retried with backoff once the informer has caught up.
 */
import type { ConfigMap, Namespace } from 'kubernetes-types/core/v1.js';
import type { ControllerContext, ControllerSpec, WorkQueue } from '../runtime/types.js';
import { refs } from '../runtime/resource-refs.js';
import { isAlreadyExists, isForbidden } from '../runtime/api-errors.js';
import {
  defaultServiceAccount, defaultServiceAccountName, isNamespaceActive, rootCaAction, rootCaConfigMapName,
} from './namespace-defaults.js';

function activeNamespace(ctx: ControllerContext, name: string): boolean {
  const namespace = ctx.informers.informer(refs.namespaces).get(name) as unknown as Namespace | undefined;
  return namespace !== undefined && isNamespaceActive(namespace);
}

/**
 * A create that finds the object already there is done. One refused because the namespace began
 * terminating after the informer last saw it (403, "being terminated") is not retried: the
 * namespace controller is emptying it and its update event ends the matter.
 */
async function createTolerant(ctx: ControllerContext, create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (isAlreadyExists(error)) return;
    if (isForbidden(error) && /being terminated/.test((error as Error).message)) {
      ctx.logger.debug('namespace terminating: default object not created', { error: (error as Error).message });
      return;
    }
    throw error;
  }
}

/** Namespace events, and the named object's own changes, wake the namespace's key. */
function watchNamespaceObject(ctx: ControllerContext, queue: WorkQueue, resource: typeof refs.serviceaccounts, objectName: string): () => void {
  const namespaces = ctx.informers.informer(refs.namespaces);
  const objects = ctx.informers.informer(resource);
  const wake = (object: { metadata: { name?: string; namespace?: string } }): void => {
    if (object.metadata.name === objectName && object.metadata.namespace !== undefined) queue.add(object.metadata.namespace);
  };
  const unsubscribe = [
    namespaces.addHandlers({ onAdd: (n) => queue.add(n.metadata.name ?? ''), onUpdate: (_p, n) => queue.add(n.metadata.name ?? '') }),
    objects.addHandlers({ onUpdate: (_p, o) => wake(o), onDelete: wake }),
  ];
  return () => { for (const u of unsubscribe) u(); };
}

export const serviceAccountController: ControllerSpec = {
  name: 'serviceaccount',
  resource: refs.namespaces,
  watch: (ctx, queue) => watchNamespaceObject(ctx, queue, refs.serviceaccounts, defaultServiceAccountName),
  async reconcile(namespace, ctx) {
    if (!activeNamespace(ctx, namespace)) return;
    if (ctx.informers.informer(refs.serviceaccounts).get(`${namespace}/${defaultServiceAccountName}`) !== undefined) return;
    await createTolerant(ctx, () => ctx.api.create(refs.serviceaccounts, namespace, defaultServiceAccount(namespace)));
  },
};

export const rootCaCertPublisher: ControllerSpec = {
  name: 'root-ca-cert-publisher',
  resource: refs.namespaces,
  watch: (ctx, queue) => watchNamespaceObject(ctx, queue, refs.configmaps, rootCaConfigMapName),
  async reconcile(namespace, ctx) {
    const caPem = ctx.options['rootCaCertPem'];
    // Without the CA there is nothing true to publish; the manager runs without it only in tests of other loops.
    if (typeof caPem !== 'string' || caPem === '') return;
    if (!activeNamespace(ctx, namespace)) return;
    const current = ctx.informers.informer(refs.configmaps).get(`${namespace}/${rootCaConfigMapName}`) as unknown as ConfigMap | undefined;
    const action = rootCaAction(namespace, current, caPem);
    if (action.kind === 'create') await createTolerant(ctx, () => ctx.api.create(refs.configmaps, namespace, action.body));
    else if (action.kind === 'update') await ctx.api.update(refs.configmaps, namespace, rootCaConfigMapName, action.body);
  },
};
