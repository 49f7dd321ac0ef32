/** What every resource handler receives: the parsed request, the caller and the server's collaborators. */
import type { NodeRpc } from './node-rpc.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, Logger } from '../../../bus/index.js';
import type { UserInfo } from '../types.js';
import type { Admission, Authorizer } from './admission.js';
import type { HttpLimits } from './limits.js';
import type { ObjectStorage } from './objects-port.js';
import type { ResourceRoute } from './route.js';

/** The member's watch streams: a slot is taken when a watch starts streaming, after authentication and authorization. */
export interface WatchSlots {
  /** The slot's release (idempotent), or null when `watchesMax` streams are open (answer 429). */
  tryAcquire(): (() => void) | null;
}

export interface ServerContext {
  readonly objects: ObjectStorage;
  readonly authorizer: Authorizer;
  readonly admission: Admission;
  readonly limits: HttpLimits;
  readonly logger: Logger;
  /** Timers (watch timeouts); injected so tests can run on simulated time. */
  readonly clock: Clock;
  /** Wall time, for table ages and managedFields timestamps. */
  readonly wallClock: () => Date;
  readonly watchSlots: WatchSlots;
  /** How this member asks node agents (logs; later exec, port-forward); absent on a bare API server (answers 503). */
  readonly nodeRpc?: NodeRpc;
}

export interface RequestContext {
  readonly server: ServerContext;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly query: URLSearchParams;
  readonly route: ResourceRoute;
  readonly user: UserInfo;
}
