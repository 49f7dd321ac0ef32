/**
 * Structured logs: one JSON object per line on stderr (stdout belongs to command output). The
 * composition root creates the logger and hands it down; `child` adds fields (member id,
 * component) without any global state.
 */
import { KubusError, type ErrorFields } from './errors.js';

export const logLevels = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof logLevels)[number];
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export class InvalidLogLevelError extends KubusError {
  override readonly name = 'InvalidLogLevelError';
  readonly code = 'invalidLogLevel';
  constructor(readonly level: string) {
    super(`unknown log level ${JSON.stringify(level)}; use one of ${logLevels.join(', ')}`);
  }
  override fields(): ErrorFields {
    return { level: this.level };
  }
}

export function parseLogLevel(level: string): LogLevel {
  const found = logLevels.find((known) => known === level);
  if (found === undefined) throw new InvalidLogLevelError(level);
  return found;
}

export interface JsonLoggerOptions {
  /** The lowest level written; a string from a flag is checked (InvalidLogLevelError). */
  readonly level: LogLevel | string;
  readonly fields?: LogFields;
  /** Where lines go; stderr by default (tests capture lines here). */
  readonly write?: (line: string) => void;
  /** Timestamp of a line; wall time by default, since logs are read next to other systems' logs. */
  readonly timestamp?: () => string;
}

export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const threshold = logLevels.indexOf(parseLogLevel(options.level));
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const timestamp = options.timestamp ?? (() => new Date().toISOString());
  const make = (base: LogFields): Logger => {
    const log = (level: LogLevel, message: string, fields?: LogFields): void => {
      if (logLevels.indexOf(level) < threshold) return;
      const record = { time: timestamp(), level, msg: message, ...base, ...fields };
      write(`${safeStringify(record)}\n`);
    };
    return {
      debug: (message, fields) => log('debug', message, fields),
      info: (message, fields) => log('info', message, fields),
      warn: (message, fields) => log('warn', message, fields),
      error: (message, fields) => log('error', message, fields),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(options.fields ?? {});
}

/** A log line must never throw: errors become {name, message, code}, bigints strings, cycles a marker. */
function safeStringify(record: object): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(record, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) {
      return { name: value.name, message: value.message, ...(value instanceof KubusError ? { code: value.code, fields: value.fields() } : {}) };
    }
    if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
    if (typeof value === 'object' && value !== null) {
      if (seen.has(value)) return '[circular]';
      seen.add(value);
    }
    return value;
  });
}
