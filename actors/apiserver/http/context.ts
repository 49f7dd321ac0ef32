/** What every resource handler receives: the parsed request, the caller and the server's collaborators. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock, Logger } from '../../../bus/index.js';
import type { UserInfo } from '../types.js';
import type { Admission, Authorizer } from './admission.js';
import type { HttpLimits } from './limits.js';
import type { ObjectStorage } from './objects-port.js';
import type { ResourceRoute } from './route.js';

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
}

export interface RequestContext {
  readonly server: ServerContext;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly query: URLSearchParams;
  readonly route: ResourceRoute;
  readonly user: UserInfo;
}
