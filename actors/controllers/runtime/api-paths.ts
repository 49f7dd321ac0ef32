/** The REST path of a resource, object or subresource, as kube-apiserver lays them out. */
import type { ResourceRef } from './types.js';

export function resourcePath(resource: ResourceRef, namespace: string | undefined, name?: string, subresource?: string): string {
  const base = resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  const scope = resource.namespaced && namespace !== undefined && namespace !== '' ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const object = name !== undefined ? `/${encodeURIComponent(name)}` : '';
  const sub = name !== undefined && subresource !== undefined ? `/${subresource}` : '';
  return `${base}${scope}/${resource.resource}${object}${sub}`;
}

/** `?a=b&c=d` of the defined values, or ''. */
export function query(params: Readonly<Record<string, string | number | boolean | undefined>>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
