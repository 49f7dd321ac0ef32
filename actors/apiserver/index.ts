/** The API server folder's public surface (issue 3). Code outside `actors/apiserver/` imports only from here. */
export { startApiServer, type ApiServerOptions, type RunningApiServer, type Authenticator } from './api-server.js';
export { defaultHttpLimits, checkHttpLimits, type HttpLimits } from './http/limits.js';
export type { ObjectStorage } from './http/objects-port.js';
export { serverVersion, aggregatedDiscovery, resourceList, legacyGroupList, openapiRoot, openapiDocument } from './discovery.js';
export { ApiError, apiErrors, type StatusObject, type StatusReason, type StatusDetails } from './status.js';
export type { KubeObject, ObjectMeta, OwnerReference, UserInfo, FieldCause } from './types.js';
export { resources, findResource, findByKind, apiGroups, apiVersionOf, parseApiVersion, type ResourceInfo } from './registry/resources.js';
export { ObjectStore } from './registry/object-store.js';
export { applyPatch } from './patch.js';
export { toTable } from './table.js';
export { validate } from './validation.js';
export { applyDefaults } from './defaults.js';
export { createCa, issueServingCert } from './pki.js';
export { ensureClusterCredentials, type ClusterCredentials } from './credentials.js';
export { TokenAuthenticator } from './tokens.js';
export { kubeconfigYaml } from './kubeconfig.js';
