/**
 * `kubus agent --metrics-address`: where the agent serves Prometheus `/metrics` over plain HTTP.
 * Default `<node-ip>:10255` (the kubelet's old read-only port, which served /metrics unauthenticated
 * the same way); `off` disables it; `:port` means the node IP. Pure: parsing only.
 */
import { InvalidMetricsAddressError } from './errors.js';

export const defaultMetricsPort = 10255;

export interface MetricsAddress {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
}

/** `undefined` → the default on the node IP; `off` → null. */
export function parseMetricsAddress(value: string | undefined, nodeIp: string): MetricsAddress | null {
  if (value === undefined) return { host: nodeIp, port: defaultMetricsPort };
  const text = value.trim();
  if (text === 'off') return null;
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new InvalidMetricsAddressError(value);
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) throw new InvalidMetricsAddressError(value);
  const port = Number(portText);
  if (port > 65_535) throw new InvalidMetricsAddressError(value);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '') host = nodeIp;
  if (/\s/.test(host)) throw new InvalidMetricsAddressError(value);
  return { host, port };
}
