import { describe, expect, it } from 'vitest';
import { ImagePullError } from '../../../nodeagent/runtime/index.js';
import { credentialsFor, imagePullBackoffMs, imagePullWaitingReason, pullPolicyOf, registryOf } from '../../../nodeagent/kubelet/image-pull.js';
import { makePod, startKubelet } from './harness.js';

describe('image pull decisions', () => {
  it('defaults the pull policy as Kubernetes does when a pod lacks it', () => {
    expect(pullPolicyOf({ name: 'a', image: 'busybox' })).toBe('Always');
    expect(pullPolicyOf({ name: 'a', image: 'busybox:latest' })).toBe('Always');
    expect(pullPolicyOf({ name: 'a', image: 'localhost:5000/busybox' })).toBe('Always');
    expect(pullPolicyOf({ name: 'a', image: 'kubus.local/busybox:1.35' })).toBe('IfNotPresent');
    expect(pullPolicyOf({ name: 'a', image: 'busybox:1', imagePullPolicy: 'Never' })).toBe('Never');
  });

  it('finds the registry of a reference', () => {
    expect(registryOf('busybox')).toBe('docker.io');
    expect(registryOf('library/busybox:1')).toBe('docker.io');
    expect(registryOf('ghcr.io/a/b:1')).toBe('ghcr.io');
    expect(registryOf('localhost:5000/x')).toBe('localhost:5000');
  });

  it('takes only the credentials of the image registry from .dockerconfigjson secrets', () => {
    const secret = { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: {
      'https://index.docker.io/v1/': { username: 'hub', password: 'p1' },
      'ghcr.io': { auth: Buffer.from('u:p').toString('base64') },
    } })) };
    expect(credentialsFor('busybox:1', [secret])).toEqual([{ registry: 'docker.io', username: 'hub', password: 'p1' }]);
    expect(credentialsFor('ghcr.io/a/b', [secret])).toEqual([{ registry: 'ghcr.io', auth: 'dTpw' }]);
    expect(credentialsFor('quay.io/x', [secret, { '.dockerconfigjson': Buffer.from('not json') }])).toEqual([]);
  });

  it('backs off from 10 s doubling to 5 min, showing ImagePullBackOff after the first failure', () => {
    expect([1, 2, 3, 6, 20].map(imagePullBackoffMs)).toEqual([10_000, 20_000, 40_000, 300_000, 300_000]);
    expect(imagePullWaitingReason('ErrImagePull', 1)).toBe('ErrImagePull');
    expect(imagePullWaitingReason('ErrImagePull', 2)).toBe('ImagePullBackOff');
    expect(imagePullWaitingReason('ErrImageNeverPull', 3)).toBe('ErrImageNeverPull');
  });
});

describe('kubelet image step', () => {
  it('keeps a container waiting in ErrImagePull then ImagePullBackOff, and starts it once the image is there', async () => {
    const k = startKubelet();
    k.runtime.imageFailures.set('img', new ImagePullError('img', 'ErrImagePull', 'no registry reachable'));
    const pod = makePod({});
    k.manager.apply({ type: 'sync', pods: [pod] });
    await k.advance(1_000);
    expect(k.containerStatus(pod, 'app')?.state?.waiting?.reason).toBe('ErrImagePull');
    expect(k.runtime.running(pod.metadata!.uid!, 'app')).toBeUndefined();
    await k.advance(11_000);
    expect(k.containerStatus(pod, 'app')?.state?.waiting).toMatchObject({ reason: 'ImagePullBackOff' });
    expect(k.containerStatus(pod, 'app')?.state?.waiting?.message).toContain('Back-off pulling image');
    k.runtime.imageFailures.delete('img');
    await k.advance(21_000);
    expect(k.runtime.running(pod.metadata!.uid!, 'app')).toBeDefined();
  });

  it('refuses a privileged container unless the agent allows it', async () => {
    const spec = { containers: [{ name: 'app', image: 'img', command: ['run'], securityContext: { privileged: true } }] };
    const refusing = startKubelet();
    const pod = makePod(spec);
    refusing.manager.apply({ type: 'sync', pods: [pod] });
    await refusing.advance(1_000);
    expect(refusing.containerStatus(pod, 'app')?.state?.waiting).toMatchObject({ reason: 'CreateContainerConfigError' });
    expect(refusing.runtime.running(pod.metadata!.uid!, 'app')).toBeUndefined();

    const allowing = startKubelet({ allowPrivileged: true });
    const other = makePod(spec);
    allowing.manager.apply({ type: 'sync', pods: [other] });
    await allowing.advance(1_000);
    expect(allowing.runtime.running(other.metadata!.uid!, 'app')).toBeDefined();
  });
});
