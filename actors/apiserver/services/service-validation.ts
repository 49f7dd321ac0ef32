/**
 * The Service rule of validation.ts: pure and total over raw client JSON, worded as Kubernetes'
 * ValidateService. Whether an address is in range or free is the allocator's to say (it knows the
 * ranges and the store); this checks the shape and the combinations of fields.
 */
import ipaddr from 'ipaddr.js';
import {
  checkName, checkPort, dns1123Label, dns1123Subdomain, isObj, labelValueCheck, portName, qualifiedName, type Causes, type Obj,
} from '../validation-core.js';
import { ipv4ToNumber } from './ranges.js';

/** Kubernetes' bound on ClientIP affinity: one day. */
const clientIpTimeoutSecondsMax = 86_400;

export function validateService(c: Causes, spec: Obj, old: Obj | null): void {
  const type = c.str('spec.type', spec['type']);
  c.oneOf('spec.type', type, ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']);
  const externallyReachable = type === 'NodePort' || type === 'LoadBalancer';
  validateAffinity(c, spec);
  const clusterIP = validateClusterIps(c, spec, type);
  if (type === 'ExternalName') {
    const external = c.str('spec.externalName', spec['externalName']);
    if (external === undefined || external === '') c.required('spec.externalName');
    else checkName(c, 'spec.externalName', external.endsWith('.') ? external.slice(0, -1) : external, dns1123Subdomain);
  }
  validatePorts(c, spec, type, clusterIP);
  const selector = c.stringMap('spec.selector', spec['selector']);
  for (const [k, v] of selector ?? []) {
    checkName(c, 'spec.selector', k, qualifiedName);
    checkName(c, 'spec.selector', v, labelValueCheck);
  }
  const externalIPs = c.arr('spec.externalIPs', spec['externalIPs']) ?? [];
  const external = c.str('spec.externalTrafficPolicy', spec['externalTrafficPolicy']);
  c.oneOf('spec.externalTrafficPolicy', external, ['Cluster', 'Local']);
  if (external !== undefined && !externallyReachable && externalIPs.length === 0) {
    c.invalid('spec.externalTrafficPolicy', external, 'may only be set for externally-accessible services');
  }
  c.oneOf('spec.internalTrafficPolicy', c.str('spec.internalTrafficPolicy', spec['internalTrafficPolicy']), ['Cluster', 'Local']);
  const health = spec['healthCheckNodePort'];
  if (health !== undefined && health !== null && health !== 0) {
    checkPort(c, 'spec.healthCheckNodePort', health);
    if (!(type === 'LoadBalancer' && external === 'Local')) {
      c.invalid('spec.healthCheckNodePort', health, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'");
    }
  }
  if (c.bool('spec.allocateLoadBalancerNodePorts', spec['allocateLoadBalancerNodePorts']) !== undefined && type !== 'LoadBalancer') {
    c.forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'");
  }
  if (old !== null && isObj(old['spec'])) {
    const oldIP = old['spec']['clusterIP'];
    // An omitted clusterIP on update means "keep": the update preparation copies the old value in.
    if (typeof oldIP === 'string' && oldIP !== '' && clusterIP !== undefined && clusterIP !== '' && clusterIP !== oldIP) {
      c.immutable('spec.clusterIP', clusterIP);
    }
  }
}

function validateAffinity(c: Causes, spec: Obj): void {
  const affinity = c.str('spec.sessionAffinity', spec['sessionAffinity']);
  c.oneOf('spec.sessionAffinity', affinity, ['None', 'ClientIP']);
  const config = c.obj('spec.sessionAffinityConfig', spec['sessionAffinityConfig']);
  if (config === undefined) return;
  if (affinity !== 'ClientIP') {
    c.forbidden('spec.sessionAffinityConfig', `must not be set when session affinity is ${affinity ?? 'None'}`);
    return;
  }
  const clientIp = c.obj('spec.sessionAffinityConfig.clientIP', config['clientIP']);
  const timeout = c.int('spec.sessionAffinityConfig.clientIP.timeoutSeconds', clientIp?.['timeoutSeconds']);
  if (timeout !== undefined && (timeout <= 0 || timeout > clientIpTimeoutSecondsMax)) {
    c.invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', timeout, `must be greater than 0 and less than ${clientIpTimeoutSecondsMax}`);
  }
}

/** The ClusterIP fields; returns `spec.clusterIP` as a string when it is one. IPv4 single-stack only. */
function validateClusterIps(c: Causes, spec: Obj, type: string | undefined): string | undefined {
  const clusterIP = c.str('spec.clusterIP', spec['clusterIP']);
  const list = c.arr('spec.clusterIPs', spec['clusterIPs']) ?? [];
  if (list.length > 1) c.invalid('spec.clusterIPs', list, 'this cluster serves single-stack IPv4 Services: at most one address');
  const first = list[0];
  if (first !== undefined && typeof first !== 'string') c.typeInvalid('spec.clusterIPs[0]', first, 'string');
  if (typeof first === 'string' && clusterIP !== undefined && clusterIP !== '' && first !== clusterIP) {
    c.invalid('spec.clusterIPs[0]', first, 'must be same as clusterIP');
  }
  if (type === 'ExternalName') {
    if (clusterIP !== undefined && clusterIP !== '') c.forbidden('spec.clusterIPs', 'may not be set for ExternalName services');
  } else if (clusterIP === 'None') {
    if (type === 'NodePort' || type === 'LoadBalancer') c.invalid('spec.clusterIPs[0]', clusterIP, `may not be set to 'None' for ${type} services`);
  } else if (clusterIP !== undefined && clusterIP !== '' && ipv4ToNumber(clusterIP) === null) {
    c.invalid('spec.clusterIPs[0]', clusterIP, ipaddr.IPv6.isValid(clusterIP)
      ? 'this cluster serves IPv4 Services only'
      : 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
  }
  const families = c.arr('spec.ipFamilies', spec['ipFamilies']) ?? [];
  families.forEach((family, index) => c.oneOf(`spec.ipFamilies[${index}]`, c.str(`spec.ipFamilies[${index}]`, family), ['IPv4']));
  if (families.length > 1) c.invalid('spec.ipFamilies', families, 'this cluster serves single-stack IPv4 Services: at most one family');
  const policy = c.str('spec.ipFamilyPolicy', spec['ipFamilyPolicy']);
  c.oneOf('spec.ipFamilyPolicy', policy, ['SingleStack', 'PreferDualStack', 'RequireDualStack']);
  if (policy === 'RequireDualStack') c.invalid('spec.ipFamilyPolicy', policy, 'this cluster is not configured for dual-stack services');
  return clusterIP;
}

function validatePorts(c: Causes, spec: Obj, type: string | undefined, clusterIP: string | undefined): void {
  const ports = c.objects('spec.ports', spec['ports']);
  if (ports.length === 0 && type !== 'ExternalName' && clusterIP !== 'None') c.required('spec.ports');
  const names = new Set<string>();
  const portProtocols = new Set<string>();
  const nodePorts = new Set<string>();
  for (const { item, path } of ports) {
    const name = c.str(`${path}.name`, item['name']);
    if (name === undefined || name === '') { if (ports.length > 1) c.required(`${path}.name`); }
    else {
      checkName(c, `${path}.name`, name, dns1123Label);
      if (names.has(name)) c.duplicate(`${path}.name`, name);
      names.add(name);
    }
    if (item['port'] === undefined || item['port'] === null) c.required(`${path}.port`);
    else checkPort(c, `${path}.port`, item['port']);
    const protocol = c.str(`${path}.protocol`, item['protocol']);
    c.oneOf(`${path}.protocol`, protocol, ['TCP', 'UDP', 'SCTP']);
    const id = `${String(item['port'])}/${protocol ?? 'TCP'}`;
    if (portProtocols.has(id)) c.duplicate(path, { port: item['port'], protocol: protocol ?? 'TCP' });
    portProtocols.add(id);
    const target = item['targetPort'];
    if (typeof target === 'string') { if (target !== '') checkName(c, `${path}.targetPort`, target, portName); }
    else if (target !== undefined && target !== null) checkPort(c, `${path}.targetPort`, target);
    const nodePort = item['nodePort'];
    if (nodePort !== undefined && nodePort !== null && nodePort !== 0) {
      if (type === 'ClusterIP' || type === undefined || type === 'ExternalName') c.forbidden(`${path}.nodePort`, `may not be used when \`type\` is '${type ?? 'ClusterIP'}'`);
      checkPort(c, `${path}.nodePort`, nodePort);
      const nodeId = `${String(nodePort)}/${protocol ?? 'TCP'}`;
      if (nodePorts.has(nodeId)) c.duplicate(`${path}.nodePort`, nodePort);
      nodePorts.add(nodeId);
    }
  }
}
