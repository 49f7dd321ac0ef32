/** POST nodes/<name>/credentials: a joined node's NATS user and API token (issue 11 §2). Placeholder until built. */
import type { RequestContext } from './context.js';
import { apiErrors } from '../status.js';

export async function handleNodeCredentials(ctx: RequestContext): Promise<void> {
  throw apiErrors.notFound(ctx.route.info.resource, ctx.route.info.group, ctx.route.name ?? '');
}
