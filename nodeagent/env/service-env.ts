/**
 * Service environment variables, as the kubelet makes them (pkg/kubelet/envvars): for each
 * Service with a cluster IP, `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT`,
 * `<NAME>_SERVICE_PORT_<PORT>` per named port, and the Docker-link style `<NAME>_PORT`,
 * `<NAME>_PORT_<port>_<PROTO>{,_PROTO,_PORT,_ADDR}`.
 *
 * Decision: which Services count is the kubelet's rule: those of the pod's namespace when
 * `enableServiceLinks` is not false, and always the `kubernetes` Service of `default` unless the
 * pod's namespace has a Service of that name. Output is sorted by Service name so the
 * environment is the same at every start.
 */
import type { Service } from 'kubernetes-types/core/v1.js';

export interface EnvVar {
  readonly name: string;
  readonly value: string;
}

const masterServiceNamespace = 'default';
const masterServiceNames = new Set(['kubernetes']);

/** The Services whose variables a pod gets. */
export function servicesForPod(options: {
  readonly namespace: string;
  readonly enableServiceLinks: boolean;
  readonly namespaceServices: readonly Service[];
  readonly defaultServices: readonly Service[];
}): Service[] {
  const byName = new Map<string, Service>();
  if (options.enableServiceLinks) {
    for (const service of options.namespaceServices) byName.set(service.metadata?.name ?? '', service);
  }
  for (const service of options.defaultServices) {
    const name = service.metadata?.name ?? '';
    if (masterServiceNames.has(name) && !byName.has(name)) byName.set(name, service);
  }
  return [...byName.values()].filter(hasClusterIp).sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

function hasClusterIp(service: Service): boolean {
  const ip = service.spec?.clusterIP;
  return ip !== undefined && ip !== '' && ip !== 'None';
}

function envName(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

/** The variables of the given Services, in order. */
export function serviceEnvironment(services: readonly Service[]): EnvVar[] {
  const out: EnvVar[] = [];
  for (const service of services) {
    const ip = service.spec?.clusterIP ?? '';
    const name = envName(service.metadata?.name ?? '');
    const ports = service.spec?.ports ?? [];
    const first = ports[0];
    out.push({ name: `${name}_SERVICE_HOST`, value: ip });
    if (first !== undefined) out.push({ name: `${name}_SERVICE_PORT`, value: String(first.port) });
    for (const port of ports) {
      if (port.name !== undefined && port.name !== '') out.push({ name: `${name}_SERVICE_PORT_${envName(port.name)}`, value: String(port.port) });
    }
    out.push(...linkVariables(name, ip, ports));
  }
  return out;
}

function linkVariables(name: string, ip: string, ports: readonly { readonly port: number; readonly protocol?: string }[]): EnvVar[] {
  const first = ports[0];
  if (first === undefined) return [];
  // An IPv6 address needs brackets in a URL.
  const host = ip.includes(':') ? `[${ip}]` : ip;
  const url = (port: { readonly port: number; readonly protocol?: string }): string => `${(port.protocol ?? 'TCP').toLowerCase()}://${host}:${port.port}`;
  const out: EnvVar[] = [{ name: `${name}_PORT`, value: url(first) }];
  for (const port of ports) {
    const protocol = port.protocol ?? 'TCP';
    const prefix = `${name}_PORT_${port.port}_${protocol.toUpperCase()}`;
    out.push(
      { name: prefix, value: url(port) },
      { name: `${prefix}_PROTO`, value: protocol.toLowerCase() },
      { name: `${prefix}_PORT`, value: String(port.port) },
      { name: `${prefix}_ADDR`, value: ip },
    );
  }
  return out;
}
