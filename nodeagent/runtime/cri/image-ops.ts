/**
 * Image pulls and the image filesystem over CRI: credentials tried in turn as the kubelet does
 * (each matching imagePullSecret, then anonymously), the registry's message kept for the user.
 */
import { statfs } from 'node:fs/promises';
import { ImagePullError } from '../errors.js';
import type { ImageFsUsage, ImagePullAuth } from '../types.js';
import type { CriClient } from './client.js';
import { CriCallError } from './errors.js';
import { criLimits } from './limits.js';
import type { WireAuthConfig } from './wire.js';

function wireAuth(auth: ImagePullAuth): WireAuthConfig {
  return {
    serverAddress: auth.registry,
    ...(auth.username !== undefined ? { username: auth.username } : {}),
    ...(auth.password !== undefined ? { password: auth.password } : {}),
    ...(auth.auth !== undefined ? { auth: auth.auth } : {}),
    ...(auth.identityToken !== undefined ? { identityToken: auth.identityToken } : {}),
  };
}

export async function pullImage(client: CriClient, image: string, auths: readonly ImagePullAuth[]): Promise<void> {
  const attempts: (WireAuthConfig | undefined)[] = [...auths.map(wireAuth), undefined];
  let lastMessage = 'no pull attempted';
  for (const auth of attempts) {
    try {
      await client.call('PullImage', { image: { image }, ...(auth ? { auth } : {}) }, criLimits.pullDeadlineMs);
      return;
    } catch (error) {
      if (!(error instanceof CriCallError)) throw error;
      if (error.grpcCode === 3) throw new ImagePullError(image, 'InvalidImageName', error.details);
      lastMessage = error.details;
    }
  }
  throw new ImagePullError(image, 'ErrImagePull', lastMessage);
}

export async function imageFsUsage(client: CriClient): Promise<ImageFsUsage | null> {
  const { imageFilesystems } = await client.call('ImageFsInfo', {});
  const first = imageFilesystems[0];
  if (first === undefined) return null;
  const mountpoint = first.fsId?.mountpoint ?? '';
  let capacityBytes = 0;
  if (mountpoint !== '') {
    const fs = await statfs(mountpoint).catch(() => null);
    if (fs !== null) capacityBytes = fs.blocks * fs.bsize;
  }
  return { usedBytes: first.usedBytes?.value ?? 0, capacityBytes };
}
