/**
 * Who may write a token record (token-secrets.ts): a Secret in kube-system that authenticates
 * someone is a credential for that someone, so creating or changing one needs the right to
 * impersonate whom it names, exactly as `kubectl --as <user> --as-group <group>` does. Namespace
 * roles cannot grant that (impersonation of users and groups is cluster-scoped), so `edit` in
 * kube-system, which may write Secrets there, cannot mint a credential; cluster-admin can
 * (`kubus token create` runs as the admin).
 *
 * Decision: records stay where they are (Secrets in kube-system, Kubernetes' place for bootstrap
 * tokens, which kubeadm and other tooling read) and are guarded at admission, rather than moved to
 * a resource of their own. Moving them would change the CLI, `kubus token list` and every existing
 * cluster's tokens, and a dedicated namespace is again writable by whoever is bound `edit` there;
 * the impersonation rule states the actual risk (a record is a way to act as someone) and holds
 * wherever the record lives. The authenticator also refuses reserved identities in stored records
 * (token-secrets.ts), so even a cluster-admin's record cannot carry `system:masters`.
 */
import type { Authorizer } from '../http/admission.js';
import { authorizeImpersonation } from '../http/impersonation.js';
import type { ResourceInfo } from '../registry/resources.js';
import { apiErrors } from '../status.js';
import type { KubeObject, UserInfo } from '../types.js';
import { bootstrapTokenType, kubusTokenType, tokenNamespace, tokenRecord } from './token-secrets.js';

export interface TokenRecordWrite {
  readonly info: Pick<ResourceInfo, 'group' | 'resource'>;
  readonly namespace: string | null;
  readonly user: UserInfo;
  /** The object about to be stored (null for a delete, which only takes a credential away). */
  readonly object: KubeObject | null;
}

const tokenTypes = new Set<unknown>([kubusTokenType, bootstrapTokenType]);

/** Resolves when the write stores no token record, or its author may impersonate whom the record names; 403 otherwise. */
export async function guardTokenRecordWrite(authorizer: Authorizer, write: TokenRecordWrite): Promise<void> {
  const { info, namespace, object } = write;
  if (info.group !== '' || info.resource !== 'secrets' || namespace !== tokenNamespace || object === null) return;
  if (!tokenTypes.has(object['type'])) return;
  const record = tokenRecord(object);
  // Not an authenticating record (a bootstrap token without usage-bootstrap-authentication): it is nobody's credential.
  if (record === null) return;
  try {
    await authorizeImpersonation(authorizer, write.user, record.user);
  } catch (error) {
    const name = object.metadata.name ?? '';
    throw apiErrors.forbidden(`secrets "${name}" is forbidden: a ${String(object['type'])} Secret authenticates as ${record.user.name}; `
      + `writing it requires permission to impersonate that user and its groups (${(error as Error).message})`);
  }
}
