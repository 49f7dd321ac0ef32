/**
 * What the NATS front takes from a request before forwarding it to its member's HTTPS API: the
 * URL is always on the API's own origin (a path `//host:port/x` or `/\host` used to make the
 * member connect to that host), and headers are strings without the ones that frame the message
 * (a forwarded `content-length` could smuggle a second request onto a shared socket).
 */
import { describe, expect, it } from 'vitest';
import { apiRequestUrl, forwardedHeaders } from '../../actors/apiserver/nats-front.js';

const api = 'https://127.0.0.1:6443';

describe('apiRequestUrl', () => {
  it('keeps path and query on the API origin', () => {
    expect(apiRequestUrl(api, '/api/v1/namespaces/default/pods?limit=10&watch=1')?.href).toBe('https://127.0.0.1:6443/api/v1/namespaces/default/pods?limit=10&watch=1');
    expect(apiRequestUrl(api, '/api/v1/../../version')?.href).toBe('https://127.0.0.1:6443/version');
  });

  it('refuses paths that name another host or are not absolute', () => {
    for (const path of ['//127.0.0.1:22/x', '//evil.example/x', '/\\evil.example/x', 'https://evil.example/x', 'api/v1', '', '\\\\evil/x']) {
      expect(apiRequestUrl(api, path)).toBeNull();
    }
  });
});

describe('forwardedHeaders', () => {
  it('drops framing and connection headers, keeps the rest', () => {
    expect(forwardedHeaders({ Authorization: 'Bearer t', 'Content-Type': 'application/json', 'Content-Length': '0', Host: 'x', 'Transfer-Encoding': 'chunked', Connection: 'keep-alive' }))
      .toEqual({ Authorization: 'Bearer t', 'Content-Type': 'application/json' });
    expect(forwardedHeaders(undefined)).toEqual({});
  });

  it('refuses non-string values and header injection', () => {
    expect(forwardedHeaders({ a: 1 })).toBeNull();
    expect(forwardedHeaders({ a: ['x'] })).toBeNull();
    expect(forwardedHeaders({ a: 'x\r\nInjected: y' })).toBeNull();
    expect(forwardedHeaders({ 'bad name': 'x' })).toBeNull();
    expect(forwardedHeaders('x')).toBeNull();
  });
});
