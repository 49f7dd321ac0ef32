/**
 * The listeners of a runtime's container events (`ContainerRuntime.onEvent`). Delivery is on a
 * microtask, so a listener never runs inside the runtime call that caused the event (a pod
 * worker reacting to `started` cannot re-enter `startContainer`), and a throwing listener is
 * logged, not allowed to break the runtime or the other listeners.
 */
import type { Logger } from '../../bus/logger.js';
import type { ContainerEvent } from './types.js';

export class EventHub {
  private readonly listeners = new Set<(event: ContainerEvent) => void>();

  constructor(private readonly logger: Logger) {}

  subscribe(listener: (event: ContainerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ContainerEvent): void {
    if (this.listeners.size === 0) return;
    queueMicrotask(() => {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (error) {
          this.logger.error('container event listener failed', { event: event.type, containerId: event.containerId, error: String(error) });
        }
      }
    });
  }
}
