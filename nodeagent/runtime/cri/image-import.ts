/**
 * Makes the local images (pause for every sandbox, busybox for examples and tests) present in
 * containerd without a registry: built by ../images/ as docker-archive tars, imported with
 * `ctr -n k8s.io images import` (CRI has no import call) when ImageStatus does not know them.
 */
import { execFile } from 'node:child_process';
import { describeLocalImage, localImageNames, localImageRefs, type LocalImageName } from '../images/index.js';
import type { Logger } from '../../../bus/logger.js';
import type { CriClient } from './client.js';
import { ImageImportError } from './errors.js';
import { criLimits } from './limits.js';

export const ctrBinary = 'ctr';
/** The CRI plugin's containerd namespace: images imported elsewhere are invisible to CRI. */
export const criNamespace = 'k8s.io';

export function importImageTar(socket: string, tar: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(ctrBinary, ['--address', socket, '-n', criNamespace, 'images', 'import', tar], { timeout: criLimits.imageImportMs }, (error, _stdout, stderr) => {
      if (error) reject(new ImageImportError(tar, `${error.message} ${stderr}`.trim()));
      else resolve();
    });
  });
}

async function present(client: CriClient, reference: string): Promise<boolean> {
  const status = await client.call('ImageStatus', { image: { image: reference }, verbose: false });
  return status.image !== null && status.image.id !== '';
}

/** Builds (cached) and imports one local image. */
export async function importLocalImage(name: LocalImageName, socket: string, cacheDirectory: string): Promise<void> {
  const image = await describeLocalImage(name, cacheDirectory);
  await importImageTar(socket, image.path);
}

/** Imports each local image containerd lacks; `required` ones (pause for a private containerd) throw on failure, others are logged. */
export async function importLocalImages(options: {
  readonly client: CriClient;
  readonly socket: string;
  readonly cacheDirectory: string;
  readonly required: readonly LocalImageName[];
  readonly logger: Logger;
}): Promise<void> {
  for (const name of localImageNames) {
    const reference = localImageRefs[name];
    if (await present(options.client, reference)) continue;
    try {
      await importLocalImage(name, options.socket, options.cacheDirectory);
      options.logger.info('imported a local image into containerd', { image: reference });
    } catch (error) {
      if (options.required.includes(name)) throw error;
      options.logger.warn('could not import a local image; pods using it need a registry', { image: reference, error: (error as Error).message });
    }
  }
}
