/**
 * Validation of scheduling.k8s.io/v1 PriorityClass and policy/v1 PodDisruptionBudget, with
 * Kubernetes' rules and messages: user classes at most 1e9 and the `system-` prefix reserved for
 * the two built-in classes; a budget with at most one of minAvailable / maxUnavailable, each a
 * non-negative integer or a percent up to 100%, and a valid selector. Which class is the one
 * global default needs the other classes: that is admission's (admission/priority.ts).
 */
import { Causes, jsonEqual, type Obj } from './validation-core.js';
import { validateLabelSelector } from './validation-workloads.js';

/** Kubernetes' `HighestUserDefinablePriority`: above it only the system classes. */
export const highestUserDefinablePriority = 1_000_000_000;
export const systemPriorityClassPrefix = 'system-';
/** The built-in classes every member creates (member-api.ts) and their fixed values. */
export const systemPriorityClasses: readonly { readonly name: string; readonly value: number; readonly description: string }[] = [
  { name: 'system-node-critical', value: 2_000_001_000, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: 2_000_000_000, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
];
const int32Min = -(2 ** 31);
const int32Max = 2 ** 31 - 1;
const preemptionPolicies = ['PreemptLowerPriority', 'Never'] as const;
const unhealthyPodEvictionPolicies = ['AlwaysAllow', 'IfHealthyBudget'] as const;

/** Why a `system-` name is refused, or undefined when it is one of the built-in classes as built. */
function systemClassProblem(name: string, value: unknown, globalDefault: unknown): string | undefined {
  const known = systemPriorityClasses.find((pc) => pc.name === name);
  if (known === undefined) return `${name} is not a known system priority class`;
  if (value !== known.value) return `value of ${name} PriorityClass must be ${known.value}`;
  if (globalDefault === true) return `globalDefault of ${name} PriorityClass must be false`;
  return undefined;
}

export function validatePriorityClass(c: Causes, object: Obj, old: Obj | null): void {
  const name = typeof (object['metadata'] as Obj | undefined)?.['name'] === 'string' ? (object['metadata'] as Obj)['name'] as string : '';
  const value = object['value'] === undefined || object['value'] === null ? undefined : c.int('value', object['value']);
  if (object['value'] === undefined || object['value'] === null) c.required('value');
  else if (value !== undefined && (value < int32Min || value > int32Max)) c.invalid('value', value, `must be between ${int32Min} and ${int32Max}, inclusive`);
  const globalDefault = c.bool('globalDefault', object['globalDefault']);
  c.str('description', object['description']);
  c.oneOf('preemptionPolicy', c.str('preemptionPolicy', object['preemptionPolicy']), preemptionPolicies);
  if (name.startsWith(systemPriorityClassPrefix)) {
    const problem = systemClassProblem(name, value, globalDefault);
    if (problem !== undefined) c.forbidden('metadata.name', `priority class names with '${systemPriorityClassPrefix}' prefix are reserved for system use only. error: ${problem}`);
  } else if (value !== undefined && value > highestUserDefinablePriority) {
    c.forbidden('value', `maximum allowed value of a user defined priority is ${highestUserDefinablePriority}`);
  }
  if (old !== null) {
    if (!jsonEqual(object['value'], old['value'])) c.forbidden('value', 'may not be changed in an update.');
    if (!jsonEqual(object['preemptionPolicy'], old['preemptionPolicy'])) c.immutable('preemptionPolicy', object['preemptionPolicy']);
  }
}

const percentPattern = /^[0-9]+%$/;

/** An IntOrString that must be a non-negative integer or a percent of at most 100%. */
function intOrPercent(c: Causes, field: string, value: unknown): void {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) c.invalid(field, value, "must be an integer or percentage (e.g '5%')");
    else if (value < 0) c.invalid(field, value, 'must be greater than or equal to 0');
  } else if (typeof value === 'string') {
    if (!percentPattern.test(value)) c.invalid(field, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
    else if (Number(value.slice(0, -1)) > 100) c.invalid(field, value, 'must not be greater than 100%');
  } else c.invalid(field, value, "must be an integer or percentage (e.g '5%')");
}

export function validatePodDisruptionBudget(c: Causes, object: Obj): void {
  const spec = c.obj('spec', object['spec']);
  if (spec === undefined) return;
  const present = (v: unknown): boolean => v !== undefined && v !== null;
  if (present(spec['minAvailable']) && present(spec['maxUnavailable'])) c.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set');
  if (present(spec['minAvailable'])) intOrPercent(c, 'spec.minAvailable', spec['minAvailable']);
  if (present(spec['maxUnavailable'])) intOrPercent(c, 'spec.maxUnavailable', spec['maxUnavailable']);
  validateLabelSelector(c, spec['selector'], 'spec.selector');
  c.oneOf('spec.unhealthyPodEvictionPolicy', c.str('spec.unhealthyPodEvictionPolicy', spec['unhealthyPodEvictionPolicy']), unhealthyPodEvictionPolicies);
  const status = c.obj('status', object['status']);
  if (status !== undefined) {
    for (const field of ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'] as const) {
      const n = c.int(`status.${field}`, status[field]);
      if (n !== undefined && n < 0) c.invalid(`status.${field}`, n, 'must be greater than or equal to 0');
    }
  }
}
