/**
 * A Kubernetes watch on top of a store watch: the starting point (synthetic ADDED for the current
 * state, or replay after a resourceVersion), selector filtering, bookmarks, and the 410 Expired
 * ERROR event for a compacted start.
 *
 * Decision: for resourceVersion unset or "0" the current state is listed at revision R and the
 * store watch starts at R+1, so nothing is missed or sent twice between the two.
 *
 * Contract with the HTTP layer: a failure after the watch started (and a compacted start, which
 * Kubernetes answers with 200 and one ERROR event) is reported once, as `close(error)`; the HTTP
 * layer writes it as an `ERROR` event carrying `error.toStatus()` and ends the stream. No ERROR
 * event is sent through `event()`, so the Status is never written twice. A store watch that lost a
 * message (WatchGapError) is no failure for the client: it is reported as `close()` without an
 * error, and the stream ends as a timed-out Kubernetes watch does (the client re-watches).
 */
import type { Clock } from '../../../bus/index.js';
import { CompactedError, WatchGapError, type StoreClient, type StoreWatch } from '../../../store/index.js';
import type { ApiError } from '../status.js';
import type { KubeObject } from '../types.js';
import { objectStoreLimits } from './limits.js';
import type { ResourceInfo } from './resources.js';
import { matchesSelector, parseObjectSelector } from './selectors.js';
import { listPrefix, parseResourceVersion, prefixEnd } from './storage-codec.js';
import { toApiError } from './store-errors.js';
import { bookmarkEvent, translateWatchEvent, type ObjectWatchEvent } from './watch-translator.js';

export interface WatchOptions {
  readonly resourceVersion?: string | undefined;
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  readonly allowWatchBookmarks?: boolean | undefined;
  readonly sendInitialEvents?: boolean | undefined;
}

export interface WatchSink {
  event(e: ObjectWatchEvent): void;
  close(error?: ApiError): void;
}

export interface WatchDependencies {
  readonly info: ResourceInfo;
  readonly namespace: string | null;
  readonly options: WatchOptions;
  readonly sink: WatchSink;
  readonly client: StoreClient;
  readonly clock: Clock;
  readonly list: (options: { resourceVersion?: string; labelSelector?: string | undefined; fieldSelector?: string | undefined }) => Promise<{ items: KubeObject[]; resourceVersion: string }>;
}

/** Rejects (ApiError) before any event for bad selectors or versions; afterwards failures go to the sink. */
export async function startObjectWatch(deps: WatchDependencies): Promise<{ stop(): void }> {
  const { info, options, sink } = deps;
  const selector = parseObjectSelector(info, options);
  const matches = (object: KubeObject): boolean => matchesSelector(selector, object);
  const rv = options.resourceVersion;
  const fromState = rv === undefined || rv === '' || rv === '0' || options.sendInitialEvents === true;
  const requested = fromState ? 0 : parseResourceVersion(rv);
  let lastRevision = requested;
  let stopped = false;
  let bookmarkTimer: number | null = null;
  let storeWatch: StoreWatch | null = null;

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    if (bookmarkTimer !== null) deps.clock.clearTimeout(bookmarkTimer);
    storeWatch?.close();
  };
  const fail = (error: ApiError): void => {
    if (stopped) return;
    stop();
    sink.close(error);
  };
  const end = (): void => {
    if (stopped) return;
    stop();
    sink.close();
  };

  const initial: ObjectWatchEvent[] = [];
  if (fromState) {
    const listed = await deps.list({
      // Unset: the most recent state (a linearizable list); "0": any state (a cached read).
      ...(rv === undefined || rv === '' ? {} : { resourceVersion: rv }),
      labelSelector: options.labelSelector, fieldSelector: options.fieldSelector,
    });
    lastRevision = Number(listed.resourceVersion);
    for (const object of listed.items) initial.push({ type: 'ADDED', object });
    if (options.sendInitialEvents === true && options.allowWatchBookmarks === true) initial.push(bookmarkEvent(info, lastRevision, true));
  }

  // Store events can arrive before watch() resolves; they wait until the initial state is sent.
  // Bounded by the store watch's own pending-message limit (it fails the watch beyond it).
  let live = false;
  const pending: ObjectWatchEvent[] = [];
  const emit = (event: ObjectWatchEvent): void => {
    if (live) sink.event(event);
    else pending.push(event);
  };
  const prefix = listPrefix(info, deps.namespace);
  try {
    storeWatch = await deps.client.watch({
      range: { key: prefix, end: prefixEnd(prefix) },
      startRevision: lastRevision + 1,
      prevKv: true,
      onEvents: (events, revision) => {
        if (stopped) return;
        for (const event of events) {
          const translated = translateWatchEvent(info, event, matches);
          if (translated !== null) emit(translated);
        }
        lastRevision = Math.max(lastRevision, revision);
      },
      onProgress: (revision) => {
        lastRevision = Math.max(lastRevision, revision);
      },
      onError: (error) => {
        // A lost store watch message ends the watch the way a watch timeout does in Kubernetes: the
        // stream ends cleanly and the client re-watches from the last resourceVersion it received
        // (every event up to it was delivered), instead of seeing an internal error.
        if (error instanceof WatchGapError) end();
        else fail(toApiError(error, 'read'));
      },
    });
  } catch (error) {
    if (error instanceof CompactedError) {
      // Kubernetes answers 200 with one ERROR event, then closes: clients relist on code 410.
      sink.close(toApiError(new CompactedError(requested, error.compactRevision), 'read'));
      return { stop: () => undefined };
    }
    throw toApiError(error, 'read');
  }
  for (const event of [...initial, ...pending]) sink.event(event);
  live = true;
  pending.length = 0;

  if (options.allowWatchBookmarks === true) {
    const scheduleBookmark = (): void => {
      bookmarkTimer = deps.clock.setTimeout(() => {
        if (stopped) return;
        sink.event(bookmarkEvent(info, lastRevision));
        scheduleBookmark();
      }, objectStoreLimits.bookmarkIntervalMs);
    };
    scheduleBookmark();
  }
  return { stop };
}
