/**
 * Reading controller flags from `ControllerContext.options` (camelCase names): durations as the
 * runtime parsed them (`<name>Ms`), else in Go's syntax (`40s`, `500ms`, `1m30s`: flags passed
 * through `--controller-flag` arrive as given), or a number of seconds;
 * plain numbers; strings. A bad value throws InvalidControllerOptionError naming the flag.
 */
import { InvalidControllerOptionError } from './errors.js';

export type OptionValues = Readonly<Record<string, string | number | boolean | undefined>>;

const unitMs: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A Go duration (`1m30s`, `500ms`) in milliseconds; undefined when it is not one. */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1_000;
  const pattern = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  while (index < trimmed.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(trimmed);
    if (match === null) return undefined;
    total += Number(match[1]) * (unitMs[match[2] as string] as number);
    index = pattern.lastIndex;
  }
  return index === 0 ? undefined : total;
}

export function durationOptionMs(options: OptionValues, name: string, defaultMs: number): number {
  // The runtime hands declared duration flags over parsed as well (`<name>Ms`).
  const parsed = options[`${name}Ms`];
  if (typeof parsed === 'number' && Number.isFinite(parsed) && parsed >= 0) return parsed;
  const value = options[name];
  if (value === undefined || value === '') return defaultMs;
  const ms = typeof value === 'number' ? value * 1_000 : typeof value === 'string' ? parseDurationMs(value) : undefined;
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) throw new InvalidControllerOptionError(name, value, 'a duration such as 40s or 500ms');
  return ms;
}

export function numberOption(options: OptionValues, name: string, defaultValue: number, check: { min?: number; max?: number; integer?: boolean } = {}): number {
  const value = options[name];
  if (value === undefined || value === '') return defaultValue;
  const parsed = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  const ok = Number.isFinite(parsed) && (check.integer !== true || Number.isInteger(parsed)) &&
    (check.min === undefined || parsed >= check.min) && (check.max === undefined || parsed <= check.max);
  if (!ok) throw new InvalidControllerOptionError(name, value, `a${check.integer === true ? 'n integer' : ' number'}${check.min !== undefined ? ` ≥ ${check.min}` : ''}${check.max !== undefined ? ` ≤ ${check.max}` : ''}`);
  return parsed;
}

export function stringOption(options: OptionValues, name: string, defaultValue: string): string {
  const value = options[name];
  if (value === undefined || value === '') return defaultValue;
  if (typeof value !== 'string') throw new InvalidControllerOptionError(name, value, 'a string');
  return value;
}

export function booleanOption(options: OptionValues, name: string, defaultValue: boolean): boolean {
  const value = options[name];
  if (value === undefined || value === '') return defaultValue;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidControllerOptionError(name, value, 'true or false');
}
