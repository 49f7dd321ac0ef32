/**
 * How a Service reaches its pods, the same for the Endpoints and EndpointSlice controllers (and,
 * later, the node proxy): which pods may be endpoints at all, which port a service port lands on in
 * a given pod, and whether the Service is headless.
 */
import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';

/** The label Kubernetes puts on the Endpoints and EndpointSlices of a Service whose clusterIP is None. */
export const headlessServiceLabel = 'service.kubernetes.io/headless';

export function isHeadlessService(service: Pick<Service, 'spec'>): boolean {
  return service.spec?.clusterIP === 'None';
}

/** A pod that will not run again (Kubernetes' `isPodTerminal`: decided by its restartPolicy and phase). */
function isTerminalForEndpoints(pod: Pick<Pod, 'spec' | 'status'>): boolean {
  const phase = pod.status?.phase;
  switch (pod.spec?.restartPolicy) {
    case 'Never': return phase === 'Failed' || phase === 'Succeeded';
    case 'OnFailure': return phase === 'Succeeded';
    default: return false;
  }
}

/**
 * Kubernetes' `ShouldPodBeInEndpoints`: a pod with an IP that is not terminal; a terminating pod
 * only when `includeTerminating` (EndpointSlices keep them with `terminating: true`; Endpoints
 * keep them only for publishNotReadyAddresses Services).
 */
export function shouldPodBeInEndpoints(pod: Pick<Pod, 'spec' | 'status' | 'metadata'>, includeTerminating: boolean): boolean {
  if (isTerminalForEndpoints(pod)) return false;
  if ((pod.status?.podIP ?? '') === '') return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp !== undefined) return false;
  return true;
}

/**
 * Kubernetes' `FindPort`: the pod port a service port sends to. A numeric targetPort is used as
 * is (the port itself when unset); a named one is looked up among the pod's container ports (and
 * sidecar init containers') with the same name and protocol, so pods of one Service may expose
 * it on different numbers. Undefined when the pod has no such port.
 */
export function findPodPort(pod: Pick<Pod, 'spec'>, servicePort: ServicePort): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  const protocol = servicePort.protocol ?? 'TCP';
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  for (const container of [...(pod.spec?.containers ?? []), ...sidecars]) {
    for (const port of container.ports ?? []) {
      if (port.name === target && (port.protocol ?? 'TCP') === protocol) return port.containerPort;
    }
  }
  return undefined;
}

/**
 * The hostname a headless Service publishes for a pod (`<hostname>.<subdomain>` DNS): only when
 * the pod names this Service as its subdomain, as Kubernetes does.
 */
export function endpointHostname(service: Pick<Service, 'spec' | 'metadata'>, pod: Pick<Pod, 'spec' | 'metadata'>): string | undefined {
  const hostname = pod.spec?.hostname ?? '';
  if (!isHeadlessService(service) || hostname === '') return undefined;
  if (pod.spec?.subdomain !== service.metadata?.name || pod.metadata?.namespace !== service.metadata?.namespace) return undefined;
  return hostname;
}
