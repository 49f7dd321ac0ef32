/**
 * ServiceAccount tokens for projected volumes, from the TokenRequest API
 * (`POST serviceaccounts/<sa>/token`, bound to the pod), kept per (pod, account, audience,
 * lifetime) and renewed at 80 % of their life, as the kubelet's token manager does.
 *
 * Decision: a token's life is measured on the injected monotonic clock from the moment it was
 * received, with the lifetime the API granted (`spec.expirationSeconds` of the answer), not from
 * `expirationTimestamp`: wall clocks of node and control plane may disagree, and the renewal
 * comes early enough (a fifth of the life) to absorb the request's own delay.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Clock } from '../../bus/clock.js';
import type { ApiClient } from '../../actors/controllers/runtime/types.js';
import { coreResources, isApiAnswer, isForbiddenError } from '../env/index.js';
import { VolumeSetUpError } from './errors.js';
import { volumeLimits } from './limits.js';

export interface TokenSpec {
  readonly audience?: string | undefined;
  readonly expirationSeconds?: number | undefined;
}

interface Held {
  readonly token: string;
  readonly receivedAtMs: number;
  readonly lifetimeMs: number;
  readonly podUid: string;
}

interface TokenRequestAnswer {
  readonly spec?: { readonly expirationSeconds?: number };
  readonly status?: { readonly token?: string };
}

export interface TokenManager {
  /** The pod's token for the spec: the held one until 80 % of its life, a new one after. */
  token(pod: Pod, spec: TokenSpec, volume: string): Promise<string>;
  /** Forgets the pod's tokens (tearDown). */
  forgetPod(podUid: string): void;
}

export function createTokenManager(options: { readonly api: ApiClient; readonly clock: Clock }): TokenManager {
  const held = new Map<string, Held>();
  return {
    async token(pod, spec, volume) {
      const namespace = pod.metadata?.namespace ?? 'default';
      const account = pod.spec?.serviceAccountName ?? 'default';
      const podUid = pod.metadata?.uid ?? '';
      const expirationSeconds = Math.max(volumeLimits.tokenExpirationSecondsMin, spec.expirationSeconds ?? volumeLimits.tokenExpirationSecondsDefault);
      const key = JSON.stringify([podUid, namespace, account, spec.audience ?? '', expirationSeconds]);
      const now = options.clock.now();
      const found = held.get(key);
      if (found !== undefined && now < found.receivedAtMs + found.lifetimeMs * volumeLimits.tokenRotateFraction) return found.token;
      const body = {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          ...(spec.audience !== undefined && spec.audience !== '' ? { audiences: [spec.audience] } : {}),
          expirationSeconds,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata?.name ?? '', uid: podUid },
        },
      };
      let answer: TokenRequestAnswer;
      try {
        answer = await options.api.create<TokenRequestAnswer>(coreResources.serviceaccounts, namespace, body, { subresource: 'token', name: account });
      } catch (error) {
        // Keep serving a token that is still valid while the API is unreachable (offline operation).
        if (found !== undefined && now < found.receivedAtMs + found.lifetimeMs) return found.token;
        const hint = isForbiddenError(error) ? ' (the node is not allowed to request tokens for this service account: the node authorizer must allow serviceaccounts/token for its pods)' : '';
        throw new VolumeSetUpError(`volume ${volume}: cannot get a token for service account ${namespace}/${account}: ${(error as Error).message}${hint}`, volume, { cause: error, transient: !isApiAnswer(error) });
      }
      const token = answer.status?.token;
      if (token === undefined || token === '') throw new VolumeSetUpError(`volume ${volume}: the TokenRequest for ${namespace}/${account} returned no token`, volume);
      held.delete(key);
      held.set(key, { token, receivedAtMs: now, lifetimeMs: (answer.spec?.expirationSeconds ?? expirationSeconds) * 1000, podUid });
      for (const oldest of held.keys()) {
        if (held.size <= volumeLimits.tokensMax) break;
        held.delete(oldest);
      }
      return token;
    },
    forgetPod(podUid) {
      for (const [key, value] of held) if (value.podUid === podUid) held.delete(key);
    },
  };
}
