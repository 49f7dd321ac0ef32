/**
 * Upgraded requests (exec, attach, port-forward and their refused SPDY fallback) in the API's
 * Prometheus metrics, as kube-apiserver counts them: verb CONNECT, in the long-running gauge while
 * the connection is open, and in `apiserver_request_total` with its code (101, or the refusal's)
 * when it closes. They never have a ServerResponse, so http/prometheus.ts's observer cannot see them.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ApiMetrics } from '../../../../bus/telemetry/index.js';
import { requestLabels } from '../prometheus.js';

export interface UpgradeObserver {
  /** Call first thing for every upgrade; the code is recorded with `outcome`. */
  observe(req: IncomingMessage, socket: Duplex): void;
  /** The answer the upgrade got: 101, or the refusal's HTTP status. */
  outcome(req: IncomingMessage, code: number): void;
}

export function upgradeObserver(metrics: ApiMetrics): UpgradeObserver {
  const codes = new WeakMap<IncomingMessage, number>();
  return {
    observe(req, socket) {
      const labels = requestLabels(req.method ?? 'GET', new URL(req.url ?? '/', 'https://kubus.invalid'));
      metrics.longRunning.inc(labels);
      socket.once('close', () => {
        metrics.longRunning.dec(labels);
        // 0: the client went away before any answer, as a dropped connection is counted.
        metrics.requests.inc({ ...labels, code: String(codes.get(req) ?? 0) });
      });
    },
    outcome: (req, code) => codes.set(req, code),
  };
}
