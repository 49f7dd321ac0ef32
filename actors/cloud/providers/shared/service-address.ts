/**
 * What a Service says about its load balancer address, read the same way by every provider.
 */
import type { Service } from 'kubernetes-types/core/v1.js';

/** `namespace/name`: the provider's key for a Service's balancer. */
export function serviceKey(service: Service): string {
  return `${service.metadata?.namespace ?? 'default'}/${service.metadata?.name ?? ''}`;
}

/** The addresses the Service asks for (`spec.loadBalancerIP`) or already has (status), best first. */
export function preferredAddresses(service: Service): string[] {
  const out: string[] = [];
  const asked = service.spec?.loadBalancerIP;
  if (asked !== undefined && asked !== '') out.push(asked);
  for (const ingress of service.status?.loadBalancer?.ingress ?? []) {
    if (ingress.ip !== undefined && ingress.ip !== '' && !out.includes(ingress.ip)) out.push(ingress.ip);
  }
  return out;
}

/** Kubernetes' DefaultLoadBalancerName: "a" + the uid without dashes, cut to 32 characters. */
export function defaultLoadBalancerName(service: Service): string {
  const uid = service.metadata?.uid ?? serviceKey(service).replace(/[^a-z0-9]/gi, '');
  return `a${uid.replace(/-/g, '')}`.slice(0, 32);
}
