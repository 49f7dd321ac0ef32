/**
 * Reads a provider's `--cloud-config` file: YAML or JSON (JSON is YAML, one parser reads both),
 * bounded in size, and small typed field readers so each provider's parser names the field that
 * is wrong instead of failing later on an `undefined`.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { CloudConfigInvalidError } from './errors.js';
import { providerLimits } from './limits.js';

/** The raw text of the file (bounded), for providers that compare it to notice a change. */
export async function readConfigText(provider: string, file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new CloudConfigInvalidError(provider, file, `cannot read it (${(error as Error).message})`, { cause: error });
  }
  if (bytes.length > providerLimits.configFileBytesMax) {
    throw new CloudConfigInvalidError(provider, file, `${bytes.length} bytes is more than the ${providerLimits.configFileBytesMax} a configuration may have`);
  }
  return bytes.toString('utf8');
}

/** The document as a plain object; an empty file is an empty object (every field defaulted). */
export function parseConfigDocument(provider: string, file: string, text: string): Record<string, unknown> {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new CloudConfigInvalidError(provider, file, `not YAML or JSON (${(error as Error).message})`, { cause: error });
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) throw new CloudConfigInvalidError(provider, file, 'the document must be a mapping of fields');
  return document as Record<string, unknown>;
}

/** Field readers that throw CloudConfigInvalidError naming `path` (e.g. `instances[2].state`). */
export class ConfigFields {
  constructor(private readonly provider: string, private readonly file: string) {}

  invalid(path: string, problem: string): CloudConfigInvalidError {
    return new CloudConfigInvalidError(this.provider, this.file, `${path}: ${problem}`);
  }

  /** Refuses fields the provider does not know: a typo would otherwise silently fall back to a default. */
  only(value: Record<string, unknown>, path: string, known: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) throw this.invalid(path === '' ? key : `${path}.${key}`, `unknown field; known fields are ${known.join(', ')}`);
    }
  }

  object(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw this.invalid(path, 'must be a mapping');
    return value as Record<string, unknown>;
  }

  string(value: unknown, path: string, fallback?: string): string {
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'string' || value === '') throw this.invalid(path, 'must be a non-empty string');
    return value;
  }

  number(value: unknown, path: string, range: { min: number; max: number; fallback: number }): number {
    if (value === undefined) return range.fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < range.min || value > range.max) {
      throw this.invalid(path, `must be a number from ${range.min} to ${range.max}`);
    }
    return value;
  }

  list(value: unknown, path: string): unknown[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw this.invalid(path, 'must be a list');
    return value;
  }
}
