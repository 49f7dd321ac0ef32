/**
 * Bearer-token authentication from a Kubernetes static token file: one line per token,
 * `token,user,uid,"group1,group2"`. `kubus up` writes it with an admin token.
 */
import { readFileSync } from 'node:fs';
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { KubusError } from '../../bus/errors.js';
import type { UserInfo } from './types.js';

export class TokenFileError extends KubusError {
  override readonly name = 'TokenFileError';
  readonly code = 'tokenFile';
}

/** 32 random bytes, URL-safe: as strong as a Kubernetes bootstrap secret, and safe in a CSV. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenLine(token: string, user: UserInfo): string {
  return `${token},${user.name},${user.uid},"${user.groups.join(',')}"`;
}

export function parseTokenFile(text: string, source = 'token file'): Map<string, UserInfo> {
  const tokens = new Map<string, UserInfo>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^([^,]+),([^,]+),([^,]+)(?:,"?([^"]*)"?)?$/.exec(line);
    if (match === null) throw new TokenFileError(`${source} line ${index + 1}: expected token,user,uid,"group1,group2"`);
    const [, token, name, uid, groups] = match as unknown as [string, string, string, string, string | undefined];
    tokens.set(token, { name, uid, groups: groups === undefined || groups === '' ? [] : groups.split(',') });
  });
  return tokens;
}

export class TokenAuthenticator {
  /** Keyed by a digest, so lookups compare fixed-length values in constant time. */
  private readonly byDigest = new Map<string, { digest: Buffer; user: UserInfo }>();

  constructor(tokens: ReadonlyMap<string, UserInfo>) {
    for (const [token, user] of tokens) {
      const digest = sha256(token);
      this.byDigest.set(digest.toString('hex'), { digest, user });
    }
  }

  static fromFile(path: string): TokenAuthenticator {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new TokenFileError(`cannot read the token file ${path}: ${(error as Error).message}`);
    }
    return new TokenAuthenticator(parseTokenFile(text, path));
  }

  /** The user of an `Authorization: Bearer <token>` header, or null. */
  authenticate(authorization: string | undefined): UserInfo | null {
    if (authorization === undefined) return null;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match === null) return null;
    const digest = sha256(match[1] as string);
    const entry = this.byDigest.get(digest.toString('hex'));
    return entry !== undefined && timingSafeEqual(entry.digest, digest) ? entry.user : null;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
