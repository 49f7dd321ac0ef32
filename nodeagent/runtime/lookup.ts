/** A runtime's own records by id, with the typed not-found errors the contract promises. */
import { ContainerNotFoundError, SandboxNotFoundError } from './errors.js';

export function requireSandbox<T>(sandboxes: ReadonlyMap<string, T>, sandboxId: string): T {
  const found = sandboxes.get(sandboxId);
  if (found === undefined) throw new SandboxNotFoundError(sandboxId);
  return found;
}

export function requireContainer<T>(containers: ReadonlyMap<string, T>, containerId: string): T {
  const found = containers.get(containerId);
  if (found === undefined) throw new ContainerNotFoundError(containerId);
  return found;
}
