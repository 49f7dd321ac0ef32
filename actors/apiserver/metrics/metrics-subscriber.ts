/**
 * Feeds a member's MetricsView from the bus: one subscription on every node's metrics subject
 * (`subjects.nodeMetricsAll`), each message decoded (bus codec), checked (report-check.ts) and kept.
 * Every member subscribes (no queue group): each holds the same view and answers `kubectl top`
 * alone.
 */
import { decode } from '../../../bus/codec.js';
import type { Clock } from '../../../bus/clock.js';
import type { Logger } from '../../../bus/logger.js';
import { subjects } from '../../../bus/subjects.js';
import type { Bus } from '../../../bus/transport.js';
import { metricsViewLimits } from './limits.js';
import { MetricsView } from './metrics-view.js';
import { checkReport } from './report-check.js';

export interface RunningMetricsView {
  readonly view: MetricsView;
  stop(): void;
}

export function startMetricsView(options: { readonly bus: Bus; readonly cluster: string; readonly clock: Clock; readonly logger: Logger }): RunningMetricsView {
  const logger = options.logger.child({ component: 'metrics-view' });
  const view = new MetricsView(options.clock);
  let lastRefusalLogMs = -Infinity;
  const refused = (fields: Record<string, unknown>): void => {
    const nowMs = options.clock.now();
    if (nowMs - lastRefusalLogMs < metricsViewLimits.refusedLogEveryMs) return;
    lastRefusalLogMs = nowMs;
    logger.warn('metrics report refused (further refusals for a minute are not logged)', fields);
  };
  const subscription = options.bus.subscribe(subjects(options.cluster).nodeMetricsAll, (message) => {
    const node = message.subject.slice(message.subject.lastIndexOf('.') + 1);
    let value: unknown;
    try {
      value = decode(message.data);
    } catch (error) {
      refused({ node, reason: `undecodable: ${(error as Error).message}` });
      return;
    }
    const checked = checkReport(value, node);
    if (!checked.ok) {
      refused({ node, reason: checked.reason });
      return;
    }
    if (view.accept(checked.report) === 'full') refused({ node, reason: `already holding ${metricsViewLimits.nodesMax} nodes' reports` });
  }, {
    pendingMax: metricsViewLimits.reportsPendingMax,
    onOverflow: (dropped) => refused({ reason: `the view fell behind: ${dropped} reports dropped so far` }),
  });
  return { view, stop: () => subscription.unsubscribe() };
}
