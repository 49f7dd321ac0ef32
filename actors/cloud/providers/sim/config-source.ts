/**
 * The scripted cloud as the file says now. Every provider call reads the file again (it is a few
 * lines, bounded by providerLimits.configFileBytesMax) and parses it only when the text changed:
 * a test or chaos runner that rewrites it sees the next call obey, with no watcher to miss an
 * event. A rewrite caught half-written (unparseable) keeps the last good cloud, with a warning.
 */
import type { Logger } from '../../../../bus/index.js';
import { readConfigText } from '../shared/config-file.js';
import { CloudConfigInvalidError } from '../shared/errors.js';
import { parseSimConfig, simProviderName, type SimConfig } from './config.js';

export class SimConfigSource {
  private constructor(
    private readonly file: string,
    private readonly logger: Logger,
    private text: string,
    private config: SimConfig,
  ) {}

  /** Reads and parses the file; an invalid one fails start (CloudConfigInvalidError). */
  static async open(file: string, logger: Logger): Promise<SimConfigSource> {
    const text = await readConfigText(simProviderName, file);
    return new SimConfigSource(file, logger, text, parseSimConfig(file, text));
  }

  /** The configuration the last good read gave, without reading. */
  get last(): SimConfig {
    return this.config;
  }

  async current(): Promise<SimConfig> {
    let text: string;
    try {
      text = await readConfigText(simProviderName, this.file);
    } catch (error) {
      this.warnOnce(readErrorKey(error), error);
      return this.config;
    }
    if (text === this.text) return this.config;
    this.text = text;
    try {
      this.config = parseSimConfig(this.file, text);
      this.logger.info('scripted cloud changed', { file: this.file, instances: this.config.instances.size, failureRate: this.config.failureRate });
    } catch (error) {
      this.warnOnce(text, error);
    }
    return this.config;
  }

  private warned = '';
  private warnOnce(key: string, error: unknown): void {
    if (this.warned === key) return;
    this.warned = key;
    const problem = error instanceof CloudConfigInvalidError ? error.problem : (error as Error).message;
    this.logger.warn('scripted cloud file unusable; keeping the last good one', { file: this.file, problem });
  }
}

/** A key for "the file could not be read", so the same read error warns once. */
function readErrorKey(error: unknown): string {
  return `\u0000${(error as Error).message}`;
}
