/**
 * The authenticator seam: what one request presents (its Authorization header and, over mutual
 * TLS, the client certificate the TLS layer checked against the cluster CA) → the user, or null
 * when the request carries nothing this authenticator understands. A credential an authenticator
 * recognises but rejects (expired, revoked, wrong CA) throws a CredentialRejectedError (401).
 *
 * Decision: a union as in Kubernetes — the first authenticator that returns a user wins; when none
 * does, the most specific rejection is answered, else plain 401. Every authenticated user gets the
 * group `system:authenticated`, which RBAC's default bindings (system:basic-user) rely on.
 */
import type { UserInfo } from '../types.js';
import { CredentialRejectedError } from './errors.js';

/** The client certificate as the TLS layer saw it: `authorized` means it chains to the configured CA. */
export interface ClientCertificate {
  readonly authorized: boolean;
  /** Node's verification error (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `CERT_HAS_EXPIRED`, ...) when not authorized. */
  readonly authorizationError: string | null;
  /** Subject attributes; repeated attributes (several `O`) are arrays. */
  readonly subject: Readonly<Record<string, string | readonly string[]>>;
}

export interface AuthenticationRequest {
  readonly authorization: string | undefined;
  readonly clientCertificate: ClientCertificate | null;
}

export interface Authenticator {
  authenticate(request: AuthenticationRequest): UserInfo | null | Promise<UserInfo | null>;
}

export const authenticatedGroup = 'system:authenticated';

export function unionAuthenticator(members: readonly Authenticator[]): Authenticator {
  return {
    async authenticate(request) {
      let rejection: CredentialRejectedError | null = null;
      for (const member of members) {
        try {
          const user = await member.authenticate(request);
          if (user !== null) return withAuthenticatedGroup(user);
        } catch (error) {
          if (!(error instanceof CredentialRejectedError)) throw error;
          rejection ??= error;
        }
      }
      if (rejection !== null) throw rejection;
      return null;
    },
  };
}

function withAuthenticatedGroup(user: UserInfo): UserInfo {
  return user.groups.includes(authenticatedGroup) ? user : { ...user, groups: [...user.groups, authenticatedGroup] };
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(authorization: string | undefined): string | null {
  if (authorization === undefined) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match === null ? null : (match[1] as string);
}
