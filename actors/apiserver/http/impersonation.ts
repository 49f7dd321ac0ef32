/**
 * Impersonation (`kubectl --as`, `--as-group`, `--as-uid`): the `Impersonate-User`,
 * `Impersonate-Group` and `Impersonate-Uid` headers make the request act as another user, once
 * the authenticated caller is authorized to `impersonate` each named user (or service account),
 * group and uid, as Kubernetes checks it. The impersonated user is authenticated too
 * (`system:authenticated` is added), so its own rules then apply to the request.
 *
 * Decision: a request carrying impersonation headers is never served as its real caller. Ignoring
 * the headers would answer `kubectl auth can-i --as alice` for the admin: a wrong "yes".
 */
import type { IncomingMessage } from 'node:http';
import type { ResourceInfo } from '../registry/resources.js';
import { apiErrors } from '../status.js';
import type { UserInfo } from '../types.js';
import type { Authorizer } from './admission.js';

const serviceAccountPrefix = 'system:serviceaccount:';

/** The things one may impersonate, as RBAC names them (core group; `serviceaccounts` is namespaced). */
function target(resource: 'users' | 'groups' | 'uids' | 'serviceaccounts'): ResourceInfo {
  return {
    group: resource === 'uids' ? 'authentication.k8s.io' : '', version: 'v1', resource, singular: resource.slice(0, -1), kind: resource,
    listKind: resource, namespaced: resource === 'serviceaccounts', shortNames: [], categories: [], verbs: ['impersonate'], subresources: [],
  };
}

function headerValues(req: IncomingMessage, name: string): string[] {
  const value = req.headers[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/**
 * Resolves when `caller` may impersonate `identity` (its user, or service account, and every group),
 * as Kubernetes checks `Impersonate-User`/`Impersonate-Group`; throws 403 otherwise.
 */
export async function authorizeImpersonation(authorizer: Authorizer, caller: UserInfo, identity: Pick<UserInfo, 'name' | 'groups'>): Promise<void> {
  const check = (info: ResourceInfo, targetName: string, namespace: string | null = null): Promise<void> =>
    authorizer.authorize({ user: caller, verb: 'impersonate', info, namespace, name: targetName, subresource: null });
  const { name } = identity;
  if (name.startsWith(serviceAccountPrefix)) {
    const [namespace, account] = name.slice(serviceAccountPrefix.length).split(':');
    if (namespace === undefined || account === undefined || account === '') throw apiErrors.badRequest(`invalid service account user name "${name}"`);
    await check(target('serviceaccounts'), account, namespace);
  } else {
    await check(target('users'), name);
  }
  for (const group of identity.groups) await check(target('groups'), group);
}

/** The user the request acts as: the caller itself, or whom it is allowed to impersonate (403 otherwise). */
export async function impersonate(req: IncomingMessage, caller: UserInfo, authorizer: Authorizer): Promise<UserInfo> {
  const [name, ...extraNames] = headerValues(req, 'impersonate-user');
  const groups = headerValues(req, 'impersonate-group');
  const [uid] = headerValues(req, 'impersonate-uid');
  if (name === undefined) {
    if (groups.length > 0 || uid !== undefined) throw apiErrors.badRequest('Impersonate-Group and Impersonate-Uid need Impersonate-User');
    return caller;
  }
  if (extraNames.length > 0) throw apiErrors.badRequest('only one Impersonate-User may be given');
  await authorizeImpersonation(authorizer, caller, { name, groups });
  if (uid !== undefined) {
    await authorizer.authorize({ user: caller, verb: 'impersonate', info: target('uids'), namespace: null, name: uid, subresource: null });
  }
  const implied = name.startsWith(serviceAccountPrefix) ? ['system:serviceaccounts', `system:serviceaccounts:${name.split(':')[2] ?? ''}`] : [];
  return { name, uid: uid ?? '', groups: [...new Set([...groups, ...implied, 'system:authenticated'])] };
}
