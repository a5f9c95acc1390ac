/**
 * Who may talk to `pollard serve`: a request must name an expected Host (DNS-rebinding
 * defence), and carry the token printed at start, in the `pollard_token` cookie set by the
 * first visit or in an `Authorization: Bearer` header (Jupyter's pattern). Browsers also send
 * an Origin, which must be this server.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'pollard_token';

/** 32 random bytes as 64 hex characters. */
export function createToken(): string {
  return randomBytes(32).toString('hex');
}

/** Constant-time comparison (hashing first makes the lengths equal). */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index <= 0) continue;
    const name = part.slice(0, index).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(index + 1).trim());
  }
  return cookies;
}

/** The token a request carries (Authorization header first, then the cookie), if any. */
export function requestToken(request: Pick<IncomingMessage, 'headers'>): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  return parseCookies(request.headers.cookie).get(TOKEN_COOKIE);
}

export function isAuthorized(request: Pick<IncomingMessage, 'headers'>, token: string): boolean {
  const given = requestToken(request);
  return given !== undefined && tokensEqual(given, token);
}

export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

function hostWithPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`.toLowerCase();
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/**
 * Host header check. Accepted: 127.0.0.1, localhost, [::1] and the bound host, each with the
 * port. When bound to every interface, any IP literal with the port is accepted too: DNS
 * rebinding needs a host name, and users reach such a server by its address.
 */
export function hostAllowed(hostHeader: string | undefined, boundHost: string, port: number): boolean {
  if (!hostHeader) return false;
  const host = hostHeader.toLowerCase();
  const allowed = ['127.0.0.1', 'localhost', '::1', boundHost].map((h) => hostWithPort(h, port));
  if (allowed.includes(host)) return true;
  if (!WILDCARD_HOSTS.has(boundHost)) return false;
  const match = /^(?:\[([0-9a-f:.]+)\]|([0-9.]+)):(\d+)$/.exec(host);
  if (!match || Number(match[3]) !== port) return false;
  const address = match[1] ?? match[2] ?? '';
  return isIP(address) !== 0;
}

/** A browser's Origin must be this very server, as the browser reached it. */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
  if (origin === undefined || hostHeader === undefined) return false;
  return origin.toLowerCase() === `http://${hostHeader.toLowerCase()}`;
}
