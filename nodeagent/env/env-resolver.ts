/**
 * The container environment, by the kubelet's order and precedence (makeEnvironmentVariables):
 * service variables first (lowest), then `envFrom` sources in order, then `env` in order, each
 * later definition replacing an earlier one of the same name; `env[].value` expands `$(VAR)`
 * against everything defined before it.
 *
 * Decision: a missing non-optional reference is an `EnvConfigError` (the pod worker's
 * CreateContainerConfigError, retried at the next sync); a missing optional one is skipped, as
 * in Kubernetes. `envFrom` keys that are not valid variable names are skipped with a warning
 * log (Kubernetes records an InvalidEnvironmentVariableNames Event for the same).
 */
import type { Container, EnvFromSource, EnvVar as KubeEnvVar, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../bus/clock.js';
import { SystemClock } from '../../bus/clock.js';
import type { Logger } from '../../bus/logger.js';
import type { ApiClient } from '../../actors/controllers/runtime/types.js';
import type { EnvResolver } from '../agent-context.js';
import { createClusterReader, type ClusterReader } from './cluster-reader.js';
import { EnvConfigError } from './errors.js';
import { expandVariables } from './expansion.js';
import { findContainer, podFieldValue, resourceFieldValue } from './downward-api.js';
import { serviceEnvironment, servicesForPod } from './service-env.js';

export interface EnvResolverOptions {
  readonly api: ApiClient;
  readonly nodeName: string;
  readonly logger: Logger;
  /** The TTL caches' clock; a SystemClock by default. */
  readonly clock?: Clock;
  /** Share one reader with the volume manager (one read per object per pod start). */
  readonly reader?: ClusterReader;
  /** The agent's `--dir`, for the reader made here when none is given (last known objects for offline starts). */
  readonly dir?: string;
}

/** Kubernetes' IsEnvVarName: what a key imported by envFrom must look like. */
const envVarName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

export function createEnvResolver(options: EnvResolverOptions): EnvResolver {
  const reader = options.reader ?? createClusterReader({
    api: options.api, clock: options.clock ?? new SystemClock(), nodeName: options.nodeName, logger: options.logger,
    ...(options.dir !== undefined ? { dir: options.dir } : {}),
  });
  const logger = options.logger.child({ component: 'env' });
  return {
    async resolve(pod, container, podIp, nodeIp) {
      const namespace = pod.metadata?.namespace ?? 'default';
      const env = new Map<string, string>();
      for (const variable of serviceEnvironment(await podServices(reader, pod))) env.set(variable.name, variable.value);
      for (const source of container.envFrom ?? []) {
        for (const [key, value] of await envFromSource(reader, namespace, container, source)) {
          const name = `${source.prefix ?? ''}${key}`;
          if (!envVarName.test(name)) {
            logger.warn('skipped an envFrom key that is not a valid environment variable name', { pod: pod.metadata?.name, container: container.name, key: name });
            continue;
          }
          env.set(name, value);
        }
      }
      for (const variable of container.env ?? []) {
        const value = await envValue({ reader, pod, container, variable, podIp, nodeIp, defined: env });
        if (value !== undefined) env.set(variable.name, value);
      }
      return [...env].map(([name, value]) => ({ name, value }));
    },
  };
}

async function podServices(reader: ClusterReader, pod: Pod): Promise<Service[]> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const enableServiceLinks = pod.spec?.enableServiceLinks !== false;
  const namespaceServices = enableServiceLinks ? await reader.services(namespace) : [];
  const defaultServices = namespace === 'default' && enableServiceLinks ? namespaceServices : await reader.services('default');
  return servicesForPod({ namespace, enableServiceLinks, namespaceServices, defaultServices });
}

async function envFromSource(reader: ClusterReader, namespace: string, container: Container, source: EnvFromSource): Promise<[string, string][]> {
  const ref = source.configMapRef ?? source.secretRef;
  if (ref === undefined) return [];
  const isConfigMap = source.configMapRef !== undefined;
  const name = ref.name ?? '';
  const data = isConfigMap ? await reader.configMapData(namespace, name) : await reader.secretData(namespace, name);
  if (data === null) {
    if (ref.optional === true) return [];
    throw new EnvConfigError(`${isConfigMap ? 'configmap' : 'secret'} "${name}" not found (envFrom of container ${container.name}); create it or mark the reference optional`,
      { container: container.name, kind: isConfigMap ? 'configMap' : 'secret', name });
  }
  return Object.keys(data).sort().map((key) => [key, data[key]?.toString('utf8') ?? '']);
}

interface EnvValueInput {
  readonly reader: ClusterReader;
  readonly pod: Pod;
  readonly container: Container;
  readonly variable: KubeEnvVar;
  readonly podIp: string | null;
  readonly nodeIp: string;
  readonly defined: ReadonlyMap<string, string>;
}

/** One `env` entry's value; undefined when an optional reference is missing (the variable is left out). */
async function envValue(input: EnvValueInput): Promise<string | undefined> {
  const { variable, container, pod } = input;
  const from = variable.valueFrom;
  if (from === undefined) return expandVariables(variable.value ?? '', (name) => input.defined.get(name));
  const namespace = pod.metadata?.namespace ?? 'default';
  if (from.fieldRef !== undefined) {
    const value = podFieldValue(from.fieldRef.fieldPath, { pod, podIp: input.podIp, nodeIp: input.nodeIp });
    if (value === undefined) throw new EnvConfigError(`unsupported fieldRef ${from.fieldRef.fieldPath} in env ${variable.name} of container ${container.name}`, { container: container.name, kind: 'fieldRef', name: from.fieldRef.fieldPath });
    return value;
  }
  if (from.resourceFieldRef !== undefined) {
    const ref = from.resourceFieldRef;
    const target = ref.containerName !== undefined && ref.containerName !== '' ? findContainer(pod, ref.containerName) : container;
    const value = target === undefined ? undefined : resourceFieldValue(target, { resource: ref.resource, divisor: ref.divisor }, await input.reader.allocatable());
    if (value === undefined) throw new EnvConfigError(`unsupported resourceFieldRef ${ref.resource} (container ${ref.containerName ?? container.name}) in env ${variable.name}`, { container: container.name, kind: 'resourceFieldRef', name: ref.resource });
    return value;
  }
  const keyRef = from.configMapKeyRef ?? from.secretKeyRef;
  if (keyRef === undefined) return '';
  const isConfigMap = from.configMapKeyRef !== undefined;
  const data = isConfigMap ? await input.reader.configMapData(namespace, keyRef.name ?? '') : await input.reader.secretData(namespace, keyRef.name ?? '');
  const value = data?.[keyRef.key];
  if (value !== undefined) return value.toString('utf8');
  if (keyRef.optional === true) return undefined;
  const what = isConfigMap ? 'configmap' : 'secret';
  const message = data === null
    ? `${what} "${keyRef.name ?? ''}" not found (env ${variable.name} of container ${container.name}); create it or mark the reference optional`
    : `key "${keyRef.key}" not found in ${what} "${keyRef.name ?? ''}" (env ${variable.name} of container ${container.name})`;
  throw new EnvConfigError(message, { container: container.name, kind: isConfigMap ? 'configMapKey' : 'secretKey', name: keyRef.name ?? '', key: keyRef.key });
}
