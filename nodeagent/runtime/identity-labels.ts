/**
 * The labels every runtime records on a container so a restarted agent finds it by pod and name
 * (types.ts `runtimeLabels`): the pod's uid, name and namespace from its sandbox, the container's
 * name and attempt; over whatever labels the kubelet passed, so these always win.
 */
import { runtimeLabels, type ContainerConfig, type PodSandboxConfig } from './types.js';

export function containerIdentityLabels(sandbox: PodSandboxConfig, config: ContainerConfig): Record<string, string> {
  return {
    ...config.labels,
    [runtimeLabels.podUid]: sandbox.uid,
    [runtimeLabels.podName]: sandbox.name,
    [runtimeLabels.podNamespace]: sandbox.namespace,
    [runtimeLabels.containerName]: config.name,
    [runtimeLabels.attempt]: String(config.attempt),
  };
}
