/**
 * The node rpc protocol on `kubus.<cluster>.node.<N>.rpc`: what a control-plane member asks a node
 * agent and what the agent answers. Shared by both sides (the API server imports these types only).
 *
 * Decision: logs are pulled, one bounded chunk per request, never pushed. Each request carries the
 * cursor the previous reply returned, so the member asks for the next chunk only once it has
 * written the last one to its HTTP client: a slow `kubectl logs -f` slows the agent down instead of
 * filling a buffer, and every request gets exactly one reply (the agent's NATS user may answer each
 * request once, within 60 s). `follow` is a sequence of long polls: a caught-up request waits up to
 * `waitMs` for new lines before answering.
 *
 * Decision: the NATS permissions are the authentication. Only members may publish on
 * `node.*.rpc` (bus/nats-auth.ts `memberPermissions`), and they do so only after the API server
 * has authenticated and authorized the user's `pods/log` request; the agent therefore trusts every
 * request it receives and checks only that it names a pod directory it has.
 */

/** Where a log stream continues: a container instance (attempt), a file by inode, a byte offset in it. */
export interface LogCursor {
  readonly attempt: number;
  /** The file's inode: rotation renames files, so a name would point at other bytes after it. */
  readonly inode: number;
  readonly offset: number;
  /** True when the last bytes returned ended inside a line (the next chunk starts without a timestamp). */
  readonly midLine: boolean;
}

export interface LogsRequest {
  readonly op: 'logs';
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly container: string;
  /** The instance before the current one (kubectl logs --previous). */
  readonly previous: boolean;
  /** RFC 3339 (nanoseconds allowed): lines logged before it are skipped; null: all. */
  readonly sinceTime: string | null;
  /** The last N lines only; applied by the first request (cursor null). */
  readonly tailLines: number | null;
  /** Each line prefixed with its RFC3339Nano time and a space. */
  readonly timestamps: boolean;
  /** Null on the first request. */
  readonly cursor: LogCursor | null;
  /** Bytes of output in this reply at most (the member's remaining limitBytes, bounded by `chunkBytesMax`). */
  readonly maxBytes: number;
  /** When caught up with a running instance, how long to wait for new lines before answering (follow); 0: answer at once. */
  readonly waitMs: number;
}

export type RpcRequest = LogsRequest;

/** Why a log request cannot be served; the API server turns each into Kubernetes' Status. */
export type LogsErrorCode = 'podNotFound' | 'containerNotFound' | 'previousNotFound' | 'badRequest';

export interface LogsReply {
  /** Output bytes (already formatted: timestamps, partial lines joined). */
  readonly chunk: Uint8Array;
  /** Where the next request continues; null with an error. */
  readonly cursor: LogCursor | null;
  /** The instance has exited and everything it wrote has been returned: nothing will follow. */
  readonly eof: boolean;
  /** Everything written so far has been returned (a non-follow read stops here). */
  readonly caughtUp: boolean;
  readonly error: { readonly code: LogsErrorCode; readonly message: string } | null;
}

export const nodeRpcLimits = {
  /** Output bytes per reply: well under NATS's 1 MiB message bound, large enough that a 10 MiB log takes 40 requests. */
  chunkBytesMax: 256 * 1024,
  /** A long poll waits at most this long: the agent's one answer must leave within its 60 s response permission. */
  waitMsMax: 10_000,
  /** The member's deadline for one reply: the longest wait plus time to read a chunk on a busy host. */
  requestTimeoutMs: 20_000,
} as const;
