/**
 * Operating errors: one class per kind, each with a stable `code` and the fields a caller needs
 * to act. They survive the bus: `toWire` turns one into a plain object that travels in a reply,
 * and `fromWire` rebuilds the class on the other side from the receiver's table of codes.
 */
export type ErrorFields = Readonly<Record<string, unknown>>;

export abstract class KubusError extends Error {
  abstract readonly code: string;
  /** What travels over the bus besides code and message; subclasses list their own fields. */
  fields(): ErrorFields {
    return {};
  }
}

export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly fields: ErrorFields;
}

export type ErrorFactory = (message: string, fields: ErrorFields) => KubusError;

export function toWire(error: KubusError): WireError {
  return { code: error.code, message: error.message, fields: error.fields() };
}

export function isWireError(value: unknown): value is WireError {
  return (
    typeof value === 'object' && value !== null &&
    typeof (value as WireError).code === 'string' && typeof (value as WireError).message === 'string'
  );
}

/** A remote error whose code this receiver does not know: kept whole rather than guessed at. */
export class RemoteError extends KubusError {
  override readonly name = 'RemoteError';
  constructor(readonly code: string, message: string, readonly remoteFields: ErrorFields) {
    super(message);
  }
  override fields(): ErrorFields {
    return this.remoteFields;
  }
}

export function fromWire(wire: WireError, factories: Readonly<Record<string, ErrorFactory>>): KubusError {
  const factory = factories[wire.code];
  return factory ? factory(wire.message, wire.fields ?? {}) : new RemoteError(wire.code, wire.message, wire.fields ?? {});
}

/** The request did not get an answer within its deadline; the outcome is unknown to the caller. */
export class BusTimeoutError extends KubusError {
  override readonly name = 'BusTimeoutError';
  readonly code = 'busTimeout';
  constructor(readonly subject: string, readonly timeoutMs: number) {
    super(`no reply on ${subject} within ${timeoutMs} ms`);
  }
  override fields(): ErrorFields {
    return { subject: this.subject, timeoutMs: this.timeoutMs };
  }
}

/** Nobody listens on the subject: the request was never delivered, so it certainly did not act. */
export class NoRespondersError extends KubusError {
  override readonly name = 'NoRespondersError';
  readonly code = 'noResponders';
  constructor(readonly subject: string) {
    super(`no member is listening on ${subject}`);
  }
  override fields(): ErrorFields {
    return { subject: this.subject };
  }
}

export class BusClosedError extends KubusError {
  override readonly name = 'BusClosedError';
  readonly code = 'busClosed';
  constructor(detail = 'the bus connection is closed') {
    super(detail);
  }
}

/** A bounded queue was full; the item was dropped and the producer must back off. */
export class QueueOverflowError extends KubusError {
  override readonly name = 'QueueOverflowError';
  readonly code = 'queueOverflow';
  constructor(readonly queue: string, readonly capacity: number) {
    super(`queue ${queue} is full (${capacity} items); item dropped`);
  }
  override fields(): ErrorFields {
    return { queue: this.queue, capacity: this.capacity };
  }
}
