/**
 * The watched collections authorization answers from: the four RBAC kinds for the rule resolver,
 * pods and PVCs for the node graph. One set per API server, started with it.
 */
import type { Clock, Logger } from '../../../bus/index.js';
import { findResource, type ResourceInfo } from '../registry/resources.js';
import type { KubeObject } from '../types.js';
import { NodeGraph } from './node-graph.js';
import { RbacPolicy, type PolicySource } from './rbac-policy.js';
import { WatchedCollection, type CollectionSource } from '../registry/watched-collection.js';
import { defaultClusterRoleBindings, defaultClusterRoles } from './default-policy.js';

export interface AuthzCaches {
  readonly policy: RbacPolicy;
  readonly graph: NodeGraph;
  /** True once every collection has loaded its first list. */
  synced(): boolean;
  /** Resolves true once the node graph's collections (pods, claims) have loaded their first list, false after `timeoutMs`. */
  graphSynced(timeoutMs: number): Promise<boolean>;
  /** Resolves true at the node graph's next change (pods, claims), false after `timeoutMs`. */
  graphChanged(timeoutMs: number): Promise<boolean>;
  /**
   * True once these caches hold every default cluster role and binding: only then does this
   * member authorize as the stored policy says (a member whose watch still lags would refuse
   * `system:authenticated` its basic rights).
   */
  holdDefaultPolicy(): boolean;
  stop(): void;
}

function info(group: string, resource: string): ResourceInfo {
  const found = findResource(group, 'v1', resource);
  if (found === undefined) throw new Error(`authz: resource ${resource}.${group}/v1 is not registered`);
  return found;
}

export function startAuthzCaches(options: { readonly source: CollectionSource; readonly clock: Clock; readonly logger: Logger }): AuthzCaches {
  const logger = options.logger.child({ component: 'authz' });
  let graph: NodeGraph | null = null;
  const graphWaiters = new Set<(ok: boolean) => void>();
  // Requests a loaded graph refused, waiting for its next change (authorizer.ts, nodeGraphCatchUpMs).
  const changeWaiters = new Set<(ok: boolean) => void>();
  const wakeGraphWaiters = (): void => {
    for (const wake of [...changeWaiters]) wake(true);
    if (!graphReady()) return;
    for (const wake of [...graphWaiters]) wake(true);
  };
  const waitOn = (waiters: Set<(ok: boolean) => void>, timeoutMs: number): Promise<boolean> => new Promise<boolean>((resolve) => {
    const timer = options.clock.setTimeout(() => { waiters.delete(wake); resolve(false); }, timeoutMs);
    const wake = (ok: boolean): void => { waiters.delete(wake); options.clock.clearTimeout(timer); resolve(ok); };
    waiters.add(wake);
  });
  const collection = (group: string, resource: string, onChange?: () => void): WatchedCollection =>
    new WatchedCollection(info(group, resource), { source: options.source, clock: options.clock, logger, ...(onChange !== undefined ? { onChange } : {}) });
  const rbac = 'rbac.authorization.k8s.io';
  const roles = collection(rbac, 'roles');
  const clusterRoles = collection(rbac, 'clusterroles');
  const roleBindings = collection(rbac, 'rolebindings');
  const clusterRoleBindings = collection(rbac, 'clusterrolebindings');
  const pods = collection('', 'pods', () => { graph?.invalidate(); wakeGraphWaiters(); });
  const claims = collection('', 'persistentvolumeclaims', wakeGraphWaiters);
  function graphReady(): boolean {
    return pods.hasSynced && claims.hasSynced;
  }
  const source: PolicySource = {
    role: (namespace, name) => roles.get(namespace, name),
    clusterRole: (name) => clusterRoles.get(null, name),
    roleBindings: () => roleBindings.values(),
    clusterRoleBindings: () => clusterRoleBindings.values(),
  };
  graph = new NodeGraph({ pods: (): Iterable<KubeObject> => pods.values(), pvc: (namespace, name) => claims.get(namespace, name) });
  const all = [roles, clusterRoles, roleBindings, clusterRoleBindings, pods, claims];
  const nameOf = (object: KubeObject): string => String(object.metadata.name);
  const defaultRoleNames = defaultClusterRoles().map(nameOf);
  const defaultBindingNames = defaultClusterRoleBindings().map(nameOf);
  for (const c of all) c.start();
  return {
    policy: new RbacPolicy(source),
    graph,
    synced: () => all.every((c) => c.hasSynced),
    graphSynced: (timeoutMs) => (graphReady() ? Promise.resolve(true) : waitOn(graphWaiters, timeoutMs)),
    graphChanged: (timeoutMs) => waitOn(changeWaiters, timeoutMs),
    holdDefaultPolicy: () =>
      defaultRoleNames.every((name) => clusterRoles.get(null, name) !== undefined) &&
      defaultBindingNames.every((name) => clusterRoleBindings.get(null, name) !== undefined),
    stop: () => {
      for (const c of all) c.stop();
      for (const wake of [...graphWaiters]) wake(false);
      for (const wake of [...changeWaiters]) wake(false);
    },
  };
}
