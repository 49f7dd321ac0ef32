/**
 * The server's Authorizer: the Node authorizer first for `system:node:<name>` users, then RBAC
 * (with `system:masters` always allowed); a refusal is a 403 Status worded as Kubernetes words it,
 * so clients and scripts that match on the message keep working.
 */
import type { AuthorizationRequest, Authorizer } from '../http/admission.js';
import { ApiError, apiErrors } from '../status.js';
import { authzLimits } from './limits.js';
import { authorizeNode, nodeNameOf } from './node-authorizer.js';
import type { NodeGraph } from './node-graph.js';
import { isSuperuser, type RbacPolicy } from './rbac-policy.js';
import { combinedResource, type Attributes, type PolicyRule, type UserIdentity } from './rbac-rules.js';

export function attributesOf(request: AuthorizationRequest): Attributes {
  return {
    resourceRequest: true, verb: request.verb, apiGroup: request.info.group, resource: request.info.resource,
    subresource: request.subresource, namespace: request.namespace, name: request.name,
  };
}

/** `User "u" cannot get resource "pods" in API group "" in the namespace "ns"` (Kubernetes' forbiddenMessage). */
export function forbiddenReason(user: UserIdentity, a: Attributes): string {
  if (!a.resourceRequest) return `User "${user.name}" cannot ${a.verb} path "${a.path}"`;
  const resource = combinedResource(a.resource, a.subresource);
  const where = a.namespace !== null && a.namespace !== '' ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `User "${user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${where}`;
}

export function forbiddenError(user: UserIdentity, a: Attributes): ApiError {
  const reason = forbiddenReason(user, a);
  if (!a.resourceRequest) return new ApiError(403, 'Forbidden', `forbidden: ${reason}`);
  const qualified = a.apiGroup === '' ? a.resource : `${a.resource}.${a.apiGroup}`;
  const subject = a.name !== null ? `${qualified} "${a.name}"` : qualified;
  return new ApiError(403, 'Forbidden', `${subject} is forbidden: ${reason}`, {
    ...(a.name !== null ? { name: a.name } : {}), group: a.apiGroup, kind: a.resource,
  });
}

/** Whether the node graph has loaded its first list, waiting up to `timeoutMs` (authz-caches.ts). */
export type GraphSyncWait = (timeoutMs: number) => Promise<boolean>;
/** Resolves true at the graph's next change (a pod or claim event), false after `timeoutMs`. */
export type GraphChangeWait = (timeoutMs: number) => Promise<boolean>;

export class ClusterAuthorizer implements Authorizer {
  constructor(
    private readonly policy: RbacPolicy,
    private readonly graph: NodeGraph,
    private readonly graphSynced: GraphSyncWait = () => Promise.resolve(true),
    private readonly graphChanged: GraphChangeWait = () => Promise.resolve(false),
    private readonly now: () => number = () => performance.now(),
  ) {}

  allows(user: UserIdentity, attributes: Attributes, fieldSelector?: string): boolean {
    const node = nodeNameOf(user);
    if (node !== null && authorizeNode(node, this.graph, { attributes, fieldSelector }) === 'allow') return true;
    return this.policy.allows(user, attributes);
  }

  rulesFor(user: UserIdentity, namespace: string | null): PolicyRule[] {
    return rulesHeld(this.policy, user, namespace);
  }

  async authorize(request: AuthorizationRequest): Promise<void> {
    const attributes = attributesOf(request);
    if (this.allows(request.user, attributes, request.fieldSelector)) return;
    // A member that has just started does not know yet which pods are bound where: a node's request
    // refused then is asked again once the graph is loaded, and answered 503 (retry) if it never is.
    if (nodeNameOf(request.user) !== null) {
      if (!(await this.graphSynced(authzLimits.nodeGraphSyncWaitMs))) {
        throw apiErrors.unavailable('the node authorizer has not loaded which pods are bound to which node yet; retry shortly');
      }
      if (this.allows(request.user, attributes, request.fieldSelector)) return;
      // Loaded but maybe behind: a pod bound a moment ago reaches this member's graph by its watch.
      const deadline = this.now() + authzLimits.nodeGraphCatchUpMs;
      for (let left = authzLimits.nodeGraphCatchUpMs; left > 0; left = deadline - this.now()) {
        if (!(await this.graphChanged(left))) break;
        if (this.allows(request.user, attributes, request.fieldSelector)) return;
      }
    }
    throw forbiddenError(request.user, attributes);
  }
}

/** What `kubectl auth can-i --list` shows: the rules held in a namespace (all rules for a superuser). */
export function rulesHeld(policy: RbacPolicy, user: UserIdentity, namespace: string | null): PolicyRule[] {
  if (isSuperuser(user)) return [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }];
  return policy.rulesFor(user, namespace);
}
