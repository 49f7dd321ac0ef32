/**
 * Kubernetes' Service semantics that shape what is stored, as pure functions on the object:
 * the defaults (kube's SetDefaults_Service plus what its REST storage fills in at create), and
 * the update preparation of its registry strategy: values the client omitted are kept
 * (`patchAllocatedValues`) and fields a type change leaves meaningless are dropped
 * (`dropTypeDependentFields`), so that e.g. NodePort → ClusterIP releases the node ports.
 */
import type { KubeObject } from '../types.js';
import { isObj, jsonEqual, type Obj } from '../validation-core.js';

/** Kubernetes' default ClientIP affinity: three hours. */
export const clientIpAffinityTimeoutSecondsDefault = 10_800;

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

export function specOf(object: KubeObject): Obj | undefined {
  const spec = (object as unknown as Obj)['spec'];
  return isObj(spec) ? spec : undefined;
}

export const typeOf = (spec: Obj): string => (typeof spec['type'] === 'string' ? spec['type'] : 'ClusterIP');
export const needsClusterIp = (spec: Obj): boolean => typeOf(spec) !== 'ExternalName';
export const needsNodePorts = (spec: Obj): boolean =>
  typeOf(spec) === 'NodePort' || (typeOf(spec) === 'LoadBalancer' && spec['allocateLoadBalancerNodePorts'] !== false);
export const needsHealthCheckNodePort = (spec: Obj): boolean => typeOf(spec) === 'LoadBalancer' && spec['externalTrafficPolicy'] === 'Local';
const externallyReachable = (spec: Obj): boolean => typeOf(spec) === 'NodePort' || typeOf(spec) === 'LoadBalancer';

export const isUnset = (value: unknown): boolean => value === undefined || value === null || value === '' || value === 0;

export function portsOf(spec: Obj): Obj[] {
  const ports = spec['ports'];
  return Array.isArray(ports) ? ports.filter(isObj) : [];
}

function setDefault(target: Obj, field: string, value: unknown): void {
  if (target[field] === undefined || target[field] === null) target[field] = value;
}

/** The Service's defaults, in place; idempotent (admission and the store both apply them). */
export function defaultService(object: KubeObject): KubeObject {
  const spec = specOf(object);
  if (spec === undefined) return object;
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec['sessionAffinity'] === 'ClientIP') {
    const config = isObj(spec['sessionAffinityConfig']) ? spec['sessionAffinityConfig'] : (spec['sessionAffinityConfig'] = {});
    const clientIp = isObj(config['clientIP']) ? config['clientIP'] : (config['clientIP'] = {});
    setDefault(clientIp, 'timeoutSeconds', clientIpAffinityTimeoutSecondsDefault);
  }
  for (const port of portsOf(spec)) {
    setDefault(port, 'protocol', 'TCP');
    if (isUnset(port['targetPort'])) port['targetPort'] = port['port'];
  }
  if (needsClusterIp(spec)) {
    setDefault(spec, 'internalTrafficPolicy', 'Cluster');
    setDefault(spec, 'ipFamilies', ['IPv4']);
    setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    mirrorClusterIps(spec);
  }
  if (externallyReachable(spec)) setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  if (typeOf(spec) === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);
  return object;
}

/** `clusterIP` and `clusterIPs[0]` name the same address; whichever the client gave fills the other. */
export function mirrorClusterIps(spec: Obj): void {
  const single = spec['clusterIP'];
  const list = spec['clusterIPs'];
  const hasSingle = typeof single === 'string' && single !== '';
  const hasList = Array.isArray(list) && list.length > 0;
  if (hasSingle && !hasList) spec['clusterIPs'] = [single];
  else if (!hasSingle && hasList && typeof list[0] === 'string') spec['clusterIP'] = list[0];
}

/**
 * Kubernetes' PrepareForUpdate for Services, in place on `next`: values the client left out are
 * kept from `old` where the type still needs them, and those a type change makes meaningless are
 * dropped when the client did not change them.
 */
export function prepareServiceUpdate(old: KubeObject, next: KubeObject): KubeObject {
  const before = specOf(old);
  const after = specOf(next);
  if (before === undefined || after === undefined) return next;
  keepAllocatedValues(before, after);
  dropTypeDependentFields(before, after);
  return next;
}

function keepAllocatedValues(before: Obj, after: Obj): void {
  if (needsClusterIp(before) && needsClusterIp(after)) {
    if (isUnset(after['clusterIP'])) after['clusterIP'] = before['clusterIP'];
    const list = after['clusterIPs'];
    if ((!Array.isArray(list) || list.length === 0) && after['clusterIP'] === before['clusterIP'] && before['clusterIPs'] !== undefined) {
      after['clusterIPs'] = structuredClone(before['clusterIPs']);
    }
  }
  if (needsNodePorts(before) && needsNodePorts(after)) {
    // By port name, as Kubernetes matches them; a node port the new spec already uses elsewhere is not copied.
    const used = new Set(portsOf(after).map((port) => port['nodePort']).filter((value) => !isUnset(value)));
    const byName = new Map(portsOf(before).map((port) => [String(port['name'] ?? ''), port['nodePort']]));
    for (const port of portsOf(after)) {
      if (!isUnset(port['nodePort'])) continue;
      const kept = byName.get(String(port['name'] ?? ''));
      if (!isUnset(kept) && !used.has(kept)) port['nodePort'] = kept;
    }
  }
  if (needsHealthCheckNodePort(before) && needsHealthCheckNodePort(after) && isUnset(after['healthCheckNodePort'])) {
    after['healthCheckNodePort'] = before['healthCheckNodePort'];
  }
}

function dropTypeDependentFields(before: Obj, after: Obj): void {
  const unchanged = (field: string): boolean => jsonEqual(before[field], after[field]);
  const clear = (field: string): void => { delete after[field]; };
  // Also without a type change: externalTrafficPolicy Local → Cluster releases it (Kubernetes' updateHealthCheckNodePort).
  if (needsHealthCheckNodePort(before) && !needsHealthCheckNodePort(after) && unchanged('healthCheckNodePort')) clear('healthCheckNodePort');
  if (typeOf(before) === typeOf(after)) return;
  if (needsClusterIp(before) && !needsClusterIp(after)) {
    if (unchanged('clusterIP') && unchanged('clusterIPs')) { clear('clusterIP'); clear('clusterIPs'); }
    if (unchanged('ipFamilies')) clear('ipFamilies');
    if (unchanged('ipFamilyPolicy')) clear('ipFamilyPolicy');
    if (unchanged('internalTrafficPolicy')) clear('internalTrafficPolicy');
  }
  if (needsNodePorts(before) && !needsNodePorts(after)) {
    const sameNodePorts = jsonEqual(portsOf(before).map((port) => port['nodePort'] ?? 0), portsOf(after).map((port) => port['nodePort'] ?? 0));
    if (sameNodePorts) for (const port of portsOf(after)) delete port['nodePort'];
  }
  if (typeOf(after) !== 'LoadBalancer') {
    if (unchanged('allocateLoadBalancerNodePorts')) clear('allocateLoadBalancerNodePorts');
    if (unchanged('loadBalancerClass')) clear('loadBalancerClass');
  }
  if (!externallyReachable(after) && unchanged('externalTrafficPolicy')) clear('externalTrafficPolicy');
}
