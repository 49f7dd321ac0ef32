/**
 * The authenticator chain a member serves with, in Kubernetes' order: client certificate, static
 * token file, kubus and bootstrap tokens from the store, node API tokens and ServiceAccount JWTs
 * (both signed with `pki/sa.key`). A node's certificate and token are also checked against its
 * identity record (node-identity-guard.ts): revoking the bootstrap token that joined it refuses them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../../../bus/index.js';
import type { ObjectStorage } from '../http/objects-port.js';
import { TokenAuthenticator } from '../tokens.js';
import { unionAuthenticator, type Authenticator } from './authenticator.js';
import { clientCertificateAuthenticator } from './client-certificate.js';
import { guardedCertificateAuthenticator, NodeIdentityGuard } from './node-identity-guard.js';
import { NodeTokenAuthenticator } from './node-tokens.js';
import { ServiceAccountTokenAuthenticator } from './service-account-tokens.js';
import { StoredTokenAuthenticator } from './stored-tokens.js';

export interface ClusterAuthenticatorOptions {
  /** Holds `tokens.csv` and `pki/sa.pub` (see credentials.ts). */
  readonly credentialsDir: string;
  readonly objects: Pick<ObjectStorage, 'get'>;
  readonly clock: Clock;
  readonly wallClock: () => Date;
}

export function clusterAuthenticator(options: ClusterAuthenticatorOptions): Authenticator {
  const staticTokens = TokenAuthenticator.fromFile(join(options.credentialsDir, 'tokens.csv'));
  const store = { objects: options.objects, clock: options.clock, wallClock: options.wallClock };
  const guard = new NodeIdentityGuard(options.objects, options.clock);
  const members: Authenticator[] = [
    guardedCertificateAuthenticator(clientCertificateAuthenticator, guard),
    { authenticate: (request) => staticTokens.authenticate(request.authorization) },
    new StoredTokenAuthenticator(store),
  ];
  const publicKeyPem = readIfExists(join(options.credentialsDir, 'pki', 'sa.pub'));
  // A credentials dir from before ServiceAccount tokens has no key: those tokens are then simply not accepted.
  if (publicKeyPem !== null) {
    members.push(new NodeTokenAuthenticator({ publicKeyPem, wallClock: options.wallClock, guard }));
    members.push(new ServiceAccountTokenAuthenticator({ ...store, publicKeyPem }));
  }
  return unionAuthenticator(members);
}

export function readIfExists(path: string): string | null {
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}
