/**
 * The agent's `/metrics` endpoint: plain HTTP, GET `/metrics` only, the registry's text.
 *
 * Decision: unauthenticated plain HTTP on the node IP, like the kubelet's read-only port and
 * most exporters: the numbers carry no secrets (no pod specs, no env), and a Prometheus on the
 * node network scrapes it without a client certificate. `--metrics-address off` disables it;
 * `127.0.0.1:<port>` keeps it on the host.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger.js';
import { MetricsServerListenError } from './errors.js';
import { telemetryLimits } from './limits.js';
import type { MetricsAddress } from './metrics-address.js';
import type { Telemetry } from './telemetry.js';

export interface RunningMetricsServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(address: MetricsAddress, deps: { readonly telemetry: Telemetry; readonly logger: Logger }): Promise<RunningMetricsServer> {
  const { telemetry, logger } = deps;
  const server: Server = createServer((req, res) => {
    void answer(req, res, telemetry).catch((error: unknown) => {
      logger.warn('metrics scrape failed', { error: String(error) });
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('scrape failed\n');
      else res.destroy();
    });
  });
  server.maxConnections = telemetryLimits.metricsServerConnectionsMax;
  server.headersTimeout = telemetryLimits.metricsServerHeadersTimeoutMs;
  server.requestTimeout = telemetryLimits.scrapeTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    const failed = (error: Error): void => reject(new MetricsServerListenError(address.host, address.port, error));
    server.once('error', failed);
    server.listen(address.port, address.host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  const url = `http://${host}:${port}/metrics`;
  logger.info('serving /metrics', { url });
  return {
    port,
    url,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function answer(req: IncomingMessage, res: ServerResponse, telemetry: Telemetry): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://metrics.invalid').pathname;
  if (path !== '/metrics') {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('only /metrics is served here\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD' }).end('GET /metrics\n');
    return;
  }
  const { contentType, body } = await telemetry.scrape();
  res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
