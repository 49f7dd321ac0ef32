/**
 * What pods are told about DNS: dnsPolicy and dnsConfig → the sandbox's resolver settings, as the
 * kubelet computes them (pure), the sandbox config the kubelet builds with them, the host's
 * resolv.conf as read for forwarding and for `dnsPolicy: Default`, and what the process runtime
 * makes of the settings (a resolv.conf file and KUBUS_DNS_* variables).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, describe, expect, it } from 'vitest';
import { parseResolvConf, podDnsConfig, type PodDnsSettings } from '../../../nodeagent/dns/index.js';
import { upstreamsFrom } from '../../../nodeagent/dns/resolv-conf.js';
import { podSandboxConfig } from '../../../nodeagent/kubelet/container-config.js';
import { addDnsEnvironment, parseDnsServer, resolvConfText, writePodResolvConf } from '../../../nodeagent/runtime/process/pod-dns.js';

const host = parseResolvConf('# host\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\nsearch corp.example\noptions edns0 timeout:2\n');
const settings: PodDnsSettings = { clusterDns: { address: '127.32.0.1', port: 53 }, clusterDomain: 'cluster.local', host };

function pod(spec: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  return { metadata: { namespace: 'shop', name: 'web-1', uid: 'u1' }, spec: { containers: [{ name: 'c' }], ...spec } };
}

describe('resolv.conf', () => {
  it('reads nameservers (scope ids dropped), the last search line, options; forwards to the servers but itself', () => {
    expect(host).toEqual({ nameservers: ['10.0.0.2', 'fe80::1'], searches: ['corp.example'], options: ['edns0', 'timeout:2'] });
    const self = parseResolvConf('nameserver 127.32.0.1\nnameserver 127.0.0.53\nnameserver 1.1.1.1\nnameserver 8.8.8.8\nnameserver 9.9.9.9\nsearch a\ndomain b\n');
    expect(self.searches).toEqual(['b']);
    expect(upstreamsFrom(self, { address: '127.32.0.1', port: 53 })).toEqual([
      { address: '127.0.0.53', port: 53 }, { address: '1.1.1.1', port: 53 }, { address: '8.8.8.8', port: 53 },
    ]);
    // Off port 53 the host's 127.32.0.1:53 is another server.
    expect(upstreamsFrom(self, { address: '127.32.0.1', port: 5353 })[0]).toEqual({ address: '127.32.0.1', port: 53 });
  });
});

describe('dnsPolicy', () => {
  it('ClusterFirst (the default): the node server, the namespace searches then the host ones, ndots:5', () => {
    expect(podDnsConfig(pod(), settings)).toEqual({
      servers: ['127.32.0.1'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'], options: ['ndots:5'],
    });
    expect(podDnsConfig(pod(), { ...settings, clusterDns: { address: '127.32.0.1', port: 5353 } })?.servers).toEqual(['127.32.0.1:5353']);
  });

  it('a hostNetwork pod gets the host resolver unless ClusterFirstWithHostNet; a node without cluster DNS gives the host resolver', () => {
    expect(podDnsConfig(pod({ hostNetwork: true }), settings)).toEqual({ servers: host.nameservers, searches: host.searches, options: host.options });
    expect(podDnsConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), settings)?.servers).toEqual(['127.32.0.1']);
    expect(podDnsConfig(pod({ dnsPolicy: 'Default' }), settings)?.servers).toEqual(host.nameservers);
    expect(podDnsConfig(pod(), { ...settings, clusterDns: null })?.servers).toEqual(host.nameservers);
  });

  it('None takes only dnsConfig; dnsConfig is appended otherwise (no duplicates, options by name, at most 3 servers)', () => {
    expect(podDnsConfig(pod({ dnsPolicy: 'None' }), settings)).toBeUndefined();
    expect(podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.9'], searches: ['x.test'], options: [{ name: 'ndots', value: '2' }, { name: 'rotate' }] } }), settings))
      .toEqual({ servers: ['127.0.0.9'], searches: ['x.test'], options: ['ndots:2', 'rotate'] });
    const merged = podDnsConfig(pod({ dnsConfig: { nameservers: ['127.32.0.1', '10.1.1.1', '10.1.1.2', '10.1.1.3'], searches: ['cluster.local', 'extra.test'], options: [{ name: 'ndots', value: '1' }] } }), settings);
    expect(merged).toEqual({
      servers: ['127.32.0.1', '10.1.1.1', '10.1.1.2'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'extra.test'],
      options: ['ndots:1'],
    });
  });

  it('the kubelet puts them in the sandbox config, and none without settings', () => {
    expect(podSandboxConfig({ agentDir: '/a', pod: pod(), attempt: 0, ip: null, dns: settings }).dns?.servers).toEqual(['127.32.0.1']);
    expect(podSandboxConfig({ agentDir: '/a', pod: pod(), attempt: 0, ip: null }).dns).toBeUndefined();
  });
});

describe('process runtime', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubus-pod-dns-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes <pod dir>/resolv.conf and tells containers the server with its port, the searches and the file', () => {
    const sandbox = podSandboxConfig({ agentDir: dir, pod: pod(), attempt: 0, ip: null, dns: { ...settings, clusterDns: { address: '127.32.0.1', port: 5353 } } });
    const path = writePodResolvConf(sandbox);
    expect(path).toBe(join(dir, 'pods', 'shop_web-1_u1', 'resolv.conf'));
    const text = readFileSync(path ?? '', 'utf8');
    expect(text).toContain('nameserver 127.32.0.1\n');
    expect(text).toContain('port 5353');
    expect(text).toContain('search shop.svc.cluster.local svc.cluster.local cluster.local corp.example\noptions ndots:5\n');
    const env = new Map([['KUBUS_DNS_SEARCH', 'mine']]);
    addDnsEnvironment(env, sandbox);
    expect(Object.fromEntries(env)).toEqual({
      KUBUS_DNS_SERVER: '127.32.0.1:5353', KUBUS_DNS_SEARCH: 'mine', KUBUS_RESOLV_CONF: path,
    });
    const none = new Map<string, string>();
    addDnsEnvironment(none, podSandboxConfig({ agentDir: dir, pod: pod(), attempt: 0, ip: null }));
    expect(none.size).toBe(0);
  });

  it('reads server texts in every form the kubelet writes', () => {
    expect(parseDnsServer('127.32.0.1')).toEqual({ address: '127.32.0.1', port: 53 });
    expect(parseDnsServer('127.32.0.1:5353')).toEqual({ address: '127.32.0.1', port: 5353 });
    expect(parseDnsServer('fd00::53')).toEqual({ address: 'fd00::53', port: 53 });
    expect(parseDnsServer('[fd00::53]:5353')).toEqual({ address: 'fd00::53', port: 5353 });
    expect(resolvConfText({ namespace: 'a', name: 'b', dns: { servers: ['fd00::53'], searches: [], options: [] } })).toContain('nameserver fd00::53\n');
  });
});
