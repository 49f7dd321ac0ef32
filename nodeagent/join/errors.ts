/**
 * Why a join failed, one class per kind, each message saying what to do (issue 11 §2: bad join
 * input fails with a message that says what to do).
 */
import { KubusError, type ErrorFields } from '../../bus/errors.js';

/** The CA the server presented does not match `--ca-cert-hash`: maybe not our cluster. */
export class CaHashMismatchError extends KubusError {
  override readonly name = 'CaHashMismatchError';
  readonly code = 'caHashMismatch';
  constructor(readonly server: string, readonly expected: string, readonly actual: string) {
    super(`the CA of ${server} has hash ${actual}, not the pinned ${expected}: refusing to join (this may not be your cluster). ` +
      'Take the hash from the `kubus agent …` line `kubus up` prints (or compute it on a member: ' +
      '`openssl x509 -pubkey -in <credentials-dir>/pki/ca.crt | openssl pkey -pubin -outform der | openssl dgst -sha256`)');
  }
  override fields(): ErrorFields {
    return { server: this.server, expected: this.expected, actual: this.actual };
  }
}

/** `--ca-cert-hash` is not `sha256:<64 hex digits>`. */
export class CaHashFormatError extends KubusError {
  override readonly name = 'CaHashFormatError';
  readonly code = 'caHashFormat';
  constructor(readonly given: string) {
    super(`--ca-cert-hash ${JSON.stringify(given)} is not sha256:<64 hex digits>; copy it from the \`kubus agent …\` line \`kubus up\` prints`);
  }
}

/** The server's TLS chain does not lead to a CA we can pin (only its leaf, or a leaf not signed by the pinned CA). */
export class CaNotPresentedError extends KubusError {
  override readonly name = 'CaNotPresentedError';
  readonly code = 'caNotPresented';
  constructor(readonly server: string, detail: string) {
    super(`${server} did not present a CA certificate to check against --ca-cert-hash: ${detail}`);
  }
}

/** The bootstrap token was refused (401): expired, revoked, deleted or mistyped. */
export class BootstrapTokenRefusedError extends KubusError {
  override readonly name = 'BootstrapTokenRefusedError';
  readonly code = 'bootstrapTokenRefused';
  constructor(readonly server: string, readonly tokenId: string, detail: string) {
    super(`the bootstrap token ${tokenId}.… was refused by ${server} (${detail}): it is expired, revoked or unknown; ` +
      'create a new one on the control plane (`kubus token create --bootstrap`) and run `kubus agent` again with it');
  }
  override fields(): ErrorFields {
    return { server: this.server, tokenId: this.tokenId };
  }
}

/** The server refused the join (403): a live node holds the name, or the node's identity was revoked. */
export class JoinRefusedError extends KubusError {
  override readonly name = 'JoinRefusedError';
  readonly code = 'joinRefused';
  constructor(readonly server: string, readonly node: string, detail: string) {
    super(`${server} refused node ${node}: ${detail}`);
  }
  override fields(): ErrorFields {
    return { server: this.server, node: this.node };
  }
}

/** Retries of an unreachable server ran out. */
export class ServerUnreachableError extends KubusError {
  override readonly name = 'ServerUnreachableError';
  readonly code = 'serverUnreachable';
  constructor(readonly server: string, readonly attempts: number, detail: string) {
    super(`cannot reach ${server} after ${attempts} attempts (${detail}); check --server (https://<member>:<api port>) and that the control plane runs`);
  }
  override fields(): ErrorFields {
    return { server: this.server, attempts: this.attempts };
  }
}

/** No identity in `--dir` and no `--token` to make one. */
export class NoIdentityError extends KubusError {
  override readonly name = 'NoIdentityError';
  readonly code = 'noIdentity';
  constructor(readonly dir: string) {
    super(`${dir} holds no node identity and no --token was given: a first join needs --server, --token and --ca-cert-hash`);
  }
}

/** `--dir` holds another node's identity. */
export class IdentityMismatchError extends KubusError {
  override readonly name = 'IdentityMismatchError';
  readonly code = 'identityMismatch';
  constructor(readonly dir: string, readonly stored: string, readonly given: string) {
    super(`${dir} holds the identity of node ${stored}, not ${given}: pass --name ${stored}, or another --dir for a new node`);
  }
}

/** The API answered something a join cannot use (a bug or a version mismatch): the status and body say what. */
export class JoinProtocolError extends KubusError {
  override readonly name = 'JoinProtocolError';
  readonly code = 'joinProtocol';
}
