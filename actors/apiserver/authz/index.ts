/** Authorization: RBAC, the Node authorizer, escalation prevention, the default policy and access reviews. */
export {
  covers, ruleAllows, rulesAllow, subjectMatches, serviceAccountGroups, combinedResource, describeRule,
  type Attributes, type PolicyRule, type Subject, type RoleRef, type UserIdentity,
} from './rbac-rules.js';
export { RbacPolicy, staticPolicySource, isSuperuser, superuserGroup, type PolicySource } from './rbac-policy.js';
export { NodeGraph, podReferences, podNodeName, type GraphSource } from './node-graph.js';
export { authorizeNode, nodeNameOf, nodesGroup, nodeRules, selectorPins, type NodeDecision } from './node-authorizer.js';
export { ClusterAuthorizer, attributesOf, forbiddenError, forbiddenReason, rulesHeld } from './authorizer.js';
export { withRbacEscalationCheck, checkNoEscalation } from './escalation.js';
export { defaultClusterRoles, defaultClusterRoleBindings, ensureDefaultPolicy } from './default-policy.js';
export { serveAuthorizationReview, isAuthorizationReview, reviewAttributes, authorizationGroup } from './access-review.js';
export { startAuthzCaches, type AuthzCaches } from './authz-caches.js';
export { WatchedCollection } from '../registry/watched-collection.js';
export { authzLimits, checkAuthzLimits } from './limits.js';
