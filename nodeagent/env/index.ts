/** The node agent's env part: container environments (env, envFrom, downward API, service variables). */
export { createEnvResolver, type EnvResolverOptions } from './env-resolver.js';
export { createClusterReader, type ClusterReader, type ClusterReaderOptions } from './cluster-reader.js';
export { LastKnown } from './last-known.js';
export { EnvConfigError, type EnvReferenceKind } from './errors.js';
export { expandVariables } from './expansion.js';
export { podFieldValue, resourceFieldValue, findContainer, formatMap, type Allocatable, type PodFieldContext } from './downward-api.js';
export { serviceEnvironment, servicesForPod } from './service-env.js';
export { coreResources, isNotFoundError, isForbiddenError, isApiAnswer } from './api-resources.js';
export { envLimits } from './limits.js';
export { TtlCache } from './ttl-cache.js';
